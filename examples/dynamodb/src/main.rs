//! Reads and writes items of one DynamoDB table with the official AWS SDK, from a blocking
//! handler.
//!
//! The table is `TABLE_NAME`; its partition key is the string attribute `id`. Events:
//!   `{"op":"put","id":"42","item":{"name":"Ada","visits":3,"admin":false}}` → `{"stored":"42"}`
//!   `{"op":"get","id":"42"}` → `{"found":true,"item":{"id":"42","name":"Ada",...}}` or
//!   `{"found":false}`
//! Item values are strings, numbers and booleans. An error from DynamoDB keeps its code as the
//! errorType (`ResourceNotFoundException`, `ProvisionedThroughputExceededException`, ...).

use std::sync::Arc;

use aws_sdk_dynamodb::Client;
use lambda_blocking_rt::{Context, Error};
use serde::Deserialize;

mod item;

use item::Item;

/// What the handler keeps between invocations: made once at init, cloned into each worker.
#[derive(Clone)]
struct Table {
    client: Client,
    name: String,
    /// Drives the SDK's futures to completion, one call at a time.
    tokio: Arc<tokio::runtime::Runtime>,
}

#[derive(Deserialize)]
#[serde(tag = "op", rename_all = "lowercase", deny_unknown_fields)]
enum Request {
    Get { id: String },
    Put { id: String, item: Item },
}

impl Table {
    /// The SDK's configuration from the environment Lambda gives the function (region,
    /// credentials; `AWS_ENDPOINT_URL` points it elsewhere, e.g. at a local DynamoDB).
    fn from_env() -> Result<Table, Error> {
        let name = std::env::var("TABLE_NAME")
            .map_err(|_| Error::new("Config.TableName", "TABLE_NAME is not set"))?;
        let tokio = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let config = tokio.block_on(aws_config::load_defaults(
            aws_config::BehaviorVersion::latest(),
        ));
        Ok(Table {
            client: Client::new(&config),
            name,
            tokio: Arc::new(tokio),
        })
    }

    fn handle(&mut self, request: Request, _ctx: &Context) -> Result<serde_json::Value, Error> {
        match request {
            Request::Get { id } => {
                let output = self
                    .tokio
                    .block_on(
                        self.client
                            .get_item()
                            .table_name(&self.name)
                            .key("id", item::key(&id))
                            .send(),
                    )
                    .map_err(item::sdk_error)?;
                Ok(match output.item {
                    Some(attributes) => serde_json::json!({
                        "found": true,
                        "item": item::from_attributes(attributes)?,
                    }),
                    None => serde_json::json!({ "found": false }),
                })
            }
            Request::Put { id, item } => {
                let attributes = item::to_attributes(&id, item)?;
                self.tokio
                    .block_on(
                        self.client
                            .put_item()
                            .table_name(&self.name)
                            .set_item(Some(attributes))
                            .send(),
                    )
                    .map_err(item::sdk_error)?;
                Ok(serde_json::json!({ "stored": id }))
            }
        }
    }
}

fn main() -> std::process::ExitCode {
    lambda_blocking_rt::run_with_init(|| {
        let mut table = Table::from_env()?;
        Ok(lambda_blocking_rt::json(
            move |request: Request, ctx: &Context| table.handle(request, ctx),
        ))
    })
}
