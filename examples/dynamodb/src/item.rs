//! Items as JSON objects of strings, numbers and booleans, and DynamoDB's attribute values.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use lambda_blocking_rt::Error;
use serde_json::{Map, Number, Value};

/// An item as the event gives it.
pub type Item = Map<String, Value>;

/// The partition key's value.
pub fn key(id: &str) -> AttributeValue {
    AttributeValue::S(id.to_owned())
}

/// The item's attributes, with `id` as the partition key.
pub fn to_attributes(id: &str, item: Item) -> Result<HashMap<String, AttributeValue>, Error> {
    let mut attributes = HashMap::with_capacity(item.len() + 1);
    for (name, value) in item {
        let value = match value {
            Value::String(text) => AttributeValue::S(text),
            Value::Number(number) => AttributeValue::N(number.to_string()),
            Value::Bool(flag) => AttributeValue::Bool(flag),
            other => {
                return Err(Error::new(
                    "Item.UnsupportedValue",
                    format!("{name}: {other} is not a string, number or boolean"),
                ));
            }
        };
        if name == "id" {
            return Err(Error::new(
                "Item.IdInItem",
                "give the id beside the item, not in it",
            ));
        }
        attributes.insert(name, value);
    }
    attributes.insert("id".to_owned(), key(id));
    Ok(attributes)
}

/// The item as JSON: every attribute this function writes, back as it was written.
pub fn from_attributes(attributes: HashMap<String, AttributeValue>) -> Result<Value, Error> {
    let mut item = Map::with_capacity(attributes.len());
    for (name, value) in attributes {
        let value = match value {
            AttributeValue::S(text) => Value::String(text),
            AttributeValue::Bool(flag) => Value::Bool(flag),
            AttributeValue::N(number) => number
                .parse::<Number>()
                .map(Value::Number)
                .map_err(|_| Error::new("Item.BadNumber", format!("{name}: {number}")))?,
            other => {
                return Err(Error::new(
                    "Item.UnsupportedValue",
                    format!("{name}: {other:?} is not a string, number or boolean"),
                ));
            }
        };
        item.insert(name, value);
    }
    Ok(Value::Object(item))
}

/// An SDK error as the function's error: DynamoDB's own code as the errorType where the
/// service answered, else what went wrong on the way.
pub fn sdk_error<E, R>(error: aws_sdk_dynamodb::error::SdkError<E, R>) -> Error
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
    match &error {
        SdkError::ServiceError(service) => Error::new(
            service
                .err()
                .code()
                .unwrap_or("DynamoDb.ServiceError")
                .to_owned(),
            service
                .err()
                .message()
                .map_or_else(|| DisplayErrorContext(&error).to_string(), str::to_owned),
        ),
        _ => Error::new(
            "DynamoDb.RequestFailed",
            DisplayErrorContext(&error).to_string(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn item(value: Value) -> Item {
        match value {
            Value::Object(map) => map,
            _ => panic!("not an object"),
        }
    }

    #[test]
    fn an_item_goes_to_attributes_and_back_unchanged_with_its_id() {
        let written = item(json!({"name": "Ada", "visits": 3, "ratio": 0.5, "admin": false}));
        let attributes = to_attributes("42", written).unwrap();
        assert_eq!(attributes["id"], AttributeValue::S("42".into()));
        assert_eq!(attributes["visits"], AttributeValue::N("3".into()));
        assert_eq!(attributes["admin"], AttributeValue::Bool(false));
        assert_eq!(
            from_attributes(attributes).unwrap(),
            json!({"id": "42", "name": "Ada", "visits": 3, "ratio": 0.5, "admin": false})
        );
    }

    #[test]
    fn nested_values_and_an_id_inside_the_item_are_refused_by_type() {
        let error = to_attributes("1", item(json!({"tags": ["a"]}))).unwrap_err();
        assert_eq!(error.error_type(), "Item.UnsupportedValue");
        let error = to_attributes("1", item(json!({"id": "2"}))).unwrap_err();
        assert_eq!(error.error_type(), "Item.IdInItem");
    }
}
