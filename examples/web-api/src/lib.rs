//! A small shop API, routed on method and path, JSON in and out:
//!
//! | request | answer |
//! | --- | --- |
//! | `GET /items` | `200` every item; `?max_price_cents=N` keeps those at N or less |
//! | `GET /items/{id}` | `200` the item, `404` when there is none |
//! | `POST /quotes` `{"lines":[{"item_id":1,"quantity":2}]}` | `200` `{"total_cents":..,"lines":..}`; `400` for a body that is not such JSON or an unknown item |
//! | another method on those paths | `405` with `allow` |
//! | anything else | `404` |
//!
//! Errors are JSON too: `{"error": "..."}`. The same code serves an API Gateway REST API, an
//! HTTP API and a function URL: the adapter gives it one kind of request.

use lambda_blocking_rt::web::http::{Method, StatusCode, header};
use lambda_blocking_rt::web::{Body, Request, RequestExt, Response};
use lambda_blocking_rt::{Context, Error};
use serde::{Deserialize, Serialize};

/// One thing the shop sells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Item {
    pub id: u32,
    pub name: &'static str,
    pub price_cents: u32,
}

/// The catalogue: a real service would read a database.
pub const ITEMS: [Item; 3] = [
    Item {
        id: 1,
        name: "kettle",
        price_cents: 2_500,
    },
    Item {
        id: 2,
        name: "teapot",
        price_cents: 1_800,
    },
    Item {
        id: 3,
        name: "cup",
        price_cents: 450,
    },
];

/// `POST /quotes`.
#[derive(Debug, Deserialize)]
pub struct QuoteRequest {
    pub lines: Vec<QuoteLine>,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
pub struct QuoteLine {
    pub item_id: u32,
    pub quantity: u32,
}

#[derive(Debug, Serialize)]
pub struct Quote {
    pub total_cents: u64,
    pub lines: Vec<QuoteLine>,
}

/// The function: routes on method and path.
pub fn handle(request: Request, _ctx: &Context) -> Result<Response<Body>, Error> {
    let path: Vec<&str> = request
        .uri()
        .path()
        .split('/')
        .filter(|segment| !segment.is_empty())
        .collect();
    let method = request.method();
    match path.as_slice() {
        ["items"] if method == Method::GET => list_items(&request),
        ["items", id] if method == Method::GET => match id.parse::<u32>() {
            Ok(id) => match ITEMS.iter().find(|item| item.id == id) {
                Some(item) => json(StatusCode::OK, item),
                None => problem(StatusCode::NOT_FOUND, format!("no item {id}")),
            },
            Err(_) => problem(StatusCode::NOT_FOUND, format!("no item {id:?}")),
        },
        ["quotes"] if method == Method::POST => quote(request.body()),
        ["items"] | ["items", _] => method_not_allowed("GET"),
        ["quotes"] => method_not_allowed("POST"),
        _ => problem(
            StatusCode::NOT_FOUND,
            format!("no route {}", request.uri().path()),
        ),
    }
}

fn list_items(request: &Request) -> Result<Response<Body>, Error> {
    let max = match request.query().first("max_price_cents") {
        Some(text) => match text.parse::<u32>() {
            Ok(max) => max,
            Err(e) => {
                return problem(StatusCode::BAD_REQUEST, format!("max_price_cents: {e}"));
            }
        },
        None => u32::MAX,
    };
    let items: Vec<&Item> = ITEMS.iter().filter(|i| i.price_cents <= max).collect();
    json(StatusCode::OK, &items)
}

fn quote(body: &Body) -> Result<Response<Body>, Error> {
    let request: QuoteRequest = match serde_json::from_slice(body.as_bytes()) {
        Ok(request) => request,
        Err(e) => return problem(StatusCode::BAD_REQUEST, format!("not a quote request: {e}")),
    };
    let mut total_cents = 0u64;
    for line in &request.lines {
        let Some(item) = ITEMS.iter().find(|item| item.id == line.item_id) else {
            return problem(StatusCode::BAD_REQUEST, format!("no item {}", line.item_id));
        };
        total_cents += u64::from(item.price_cents) * u64::from(line.quantity);
    }
    json(
        StatusCode::OK,
        &Quote {
            total_cents,
            lines: request.lines,
        },
    )
}

fn json(status: StatusCode, value: &impl Serialize) -> Result<Response<Body>, Error> {
    Ok(Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::Text(serde_json::to_string(value)?))?)
}

fn problem(status: StatusCode, message: String) -> Result<Response<Body>, Error> {
    json(status, &serde_json::json!({ "error": message }))
}

fn method_not_allowed(allow: &str) -> Result<Response<Body>, Error> {
    let mut response = problem(StatusCode::METHOD_NOT_ALLOWED, format!("use {allow}"))?;
    response
        .headers_mut()
        .insert(header::ALLOW, header::HeaderValue::from_str(allow)?);
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_blocking_rt::Handler;
    use lambda_blocking_rt::web::{self, EventInfo, QueryMap, Source};
    use serde_json::{Value, json};

    fn request(method: &str, uri: &str, body: &str) -> Request {
        web::http::Request::builder()
            .method(method)
            .uri(uri)
            .body(Body::Text(body.into()))
            .unwrap()
    }

    fn answer(request: Request) -> (StatusCode, Value) {
        let response = handle(request, &Context::default()).unwrap();
        let body = serde_json::from_slice(response.body().as_bytes()).unwrap();
        (response.status(), body)
    }

    #[test]
    fn gets_an_item_or_404() {
        assert_eq!(
            answer(request("GET", "/items/2", "")),
            (
                StatusCode::OK,
                json!({"id": 2, "name": "teapot", "price_cents": 1800})
            )
        );
        assert_eq!(
            answer(request("GET", "/items/9", "")).0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            answer(request("GET", "/items/x", "")).0,
            StatusCode::NOT_FOUND
        );
    }

    #[test]
    fn lists_items_under_a_price_from_the_decoded_query() {
        let mut req = request("GET", "/items", "");
        req.extensions_mut().insert(EventInfo {
            source: Source::HttpApi,
            query: QueryMap(vec![("max_price_cents".into(), "2000".into())]),
            path_params: Default::default(),
            stage_variables: Default::default(),
            request_context: Value::Null,
        });
        let (status, body) = answer(req);
        assert_eq!(status, StatusCode::OK);
        let names: Vec<&str> = body
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["teapot", "cup"]);
    }

    #[test]
    fn quotes_a_basket_and_refuses_bad_ones() {
        let (status, body) = answer(request(
            "POST",
            "/quotes",
            r#"{"lines":[{"item_id":1,"quantity":2},{"item_id":3,"quantity":4}]}"#,
        ));
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["total_cents"], 2 * 2500 + 4 * 450);
        let (status, body) = answer(request(
            "POST",
            "/quotes",
            r#"{"lines":[{"item_id":7,"quantity":1}]}"#,
        ));
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("no item 7"))
        );
        assert_eq!(
            answer(request("POST", "/quotes", "{")).0,
            StatusCode::BAD_REQUEST
        );
    }

    #[test]
    fn wrong_method_is_405_with_allow_and_unknown_paths_404() {
        let response = handle(request("DELETE", "/items/1", ""), &Context::default()).unwrap();
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(response.headers()["allow"], "GET");
        assert_eq!(
            answer(request("GET", "/quotes", "")).0,
            StatusCode::METHOD_NOT_ALLOWED
        );
        assert_eq!(answer(request("GET", "/", "")).0, StatusCode::NOT_FOUND);
    }

    /// The whole function on a real event, as Lambda calls it: the answer in the source's shape.
    fn invoke(event_file: &str) -> Value {
        let path = format!("{}/events/{event_file}", env!("CARGO_MANIFEST_DIR"));
        let event = std::fs::read(&path).unwrap();
        let mut out = Vec::new();
        web::handler(handle)
            .call(&event, &Context::default(), &mut out)
            .unwrap();
        serde_json::from_slice(&out).unwrap()
    }

    #[test]
    fn a_rest_api_event_gets_a_rest_answer() {
        let answer = invoke("rest-get-item.json");
        assert_eq!(answer["statusCode"], 200);
        assert_eq!(
            answer["multiValueHeaders"]["content-type"],
            json!(["application/json"])
        );
        let item: Value = serde_json::from_str(answer["body"].as_str().unwrap()).unwrap();
        assert_eq!(item["name"], "cup");
    }

    #[test]
    fn an_http_api_event_with_a_base64_body_gets_an_http_api_answer() {
        let answer = invoke("http-api-post-quote.json");
        assert_eq!(answer["statusCode"], 200);
        assert_eq!(answer["headers"]["content-type"], "application/json");
        assert_eq!(answer["isBase64Encoded"], false);
        let quote: Value = serde_json::from_str(answer["body"].as_str().unwrap()).unwrap();
        assert_eq!(quote["total_cents"], 3 * 1800);
    }
}
