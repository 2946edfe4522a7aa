//! The web adapter, through the `web` function: every HTTP source's event (fixtures in
//! `tests/fixtures/web/`, written from AWS's documented formats) sent by the fake Runtime API
//! to the real bootstrap, and the answer checked against the expected response beside it.

use base64::Engine;
use lambda_blocking_rt::web::{self, Body, Request, RequestExt, Response, Source};
use lambda_blocking_rt::{Context, Error, Handler};
use lambda_blocking_rt_tests::{Endpoint, FakeApi, PATIENCE, fixture, launch};
use serde_json::{Value, json};

/// Every source, with and without ALB's multi-value headers.
const SOURCES: [&str; 8] = [
    "rest",
    "http-api",
    "function-url",
    "alb",
    "alb-multi",
    "websocket-connect",
    "websocket-message",
    "lattice",
];

fn event(name: &str) -> Value {
    serde_json::from_slice(&fixture(&format!("web/{name}.json"))).unwrap()
}

/// The same event asking for another path.
fn with_path(name: &str, path: &str) -> Vec<u8> {
    let mut event = event(name);
    let field = if event.get("rawPath").is_some() {
        "rawPath"
    } else {
        "path"
    };
    let stage = event["requestContext"]["stage"]
        .as_str()
        .unwrap_or("$default");
    event[field] = if field == "rawPath" && stage != "$default" {
        json!(format!("/{stage}{path}"))
    } else {
        json!(path)
    };
    serde_json::to_vec(&event).unwrap()
}

/// The response's headers as one map of lower-case name to its values, whichever shape the
/// source uses (`headers`, `multiValueHeaders`, `cookies`).
fn response_headers(answer: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some(map) = answer["headers"].as_object() {
        for (name, value) in map {
            out.push((name.clone(), value.as_str().unwrap().to_owned()));
        }
    }
    if let Some(map) = answer["multiValueHeaders"].as_object() {
        for (name, values) in map {
            for value in values.as_array().unwrap() {
                out.push((name.clone(), value.as_str().unwrap().to_owned()));
            }
        }
    }
    for cookie in answer["cookies"].as_array().into_iter().flatten() {
        out.push(("set-cookie".into(), cookie.as_str().unwrap().to_owned()));
    }
    out
}

#[test]
fn every_source_is_described_and_answered_in_its_own_shape() {
    let api = FakeApi::start();
    let ids = api.push_events(SOURCES.map(|name| fixture(&format!("web/{name}.json"))));
    let mut bootstrap = launch(&api, "web", &[]);
    let answers = api.wait_answers(&ids, PATIENCE);
    for (name, answer) in SOURCES.iter().zip(&answers) {
        assert_eq!(answer.endpoint, Endpoint::Response, "{name}: {answer:?}");
        let expected: Value =
            serde_json::from_slice(&fixture(&format!("web/{name}.expected.json"))).unwrap();
        let mut response = answer.json();
        let body: Value = serde_json::from_str(
            response["body"]
                .as_str()
                .unwrap_or_else(|| panic!("{name}: no body")),
        )
        .unwrap_or_else(|e| panic!("{name}: the body is not JSON: {e}"));
        response.as_object_mut().unwrap().remove("body");
        assert_eq!(response, expected["response"], "{name}: the response");
        assert_eq!(body, expected["body"], "{name}: the request as described");
    }
    assert!(bootstrap.is_running());
}

#[test]
fn bytes_are_answered_base64_and_statuses_with_an_empty_body_from_every_source() {
    let api = FakeApi::start();
    let mut events = Vec::new();
    for name in SOURCES {
        events.push(with_path(name, "/bytes"));
        events.push(with_path(name, "/status/404"));
    }
    let ids = api.push_events(events);
    let _bootstrap = launch(&api, "web", &[]);
    let answers = api.wait_answers(&ids, PATIENCE);
    let every_byte: Vec<u8> = (0..=255).collect();
    for (name, pair) in SOURCES.iter().zip(answers.chunks(2)) {
        let (bytes, status) = (pair[0].json(), pair[1].json());
        assert_eq!(bytes["statusCode"], 200, "{name}");
        assert_eq!(bytes["isBase64Encoded"], true, "{name}: {bytes}");
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(bytes["body"].as_str().unwrap())
            .unwrap();
        assert_eq!(decoded, every_byte, "{name}");
        if !name.starts_with("websocket") {
            assert!(
                response_headers(&bytes)
                    .contains(&("content-type".into(), "application/octet-stream".into())),
                "{name}: {bytes}"
            );
        }
        assert_eq!(status["statusCode"], 404, "{name}");
        assert_eq!(status["body"], "", "{name}");
        if name.starts_with("alb") || *name == "lattice" {
            assert_eq!(status["statusDescription"], "404 Not Found", "{name}");
        }
    }
}

#[test]
fn events_that_are_not_http_or_bad_are_invalid_events_and_serving_goes_on() {
    let cases: [(&[u8], &str); 5] = [
        (&fixture("web/bad-not-http.json"), "has no requestContext"),
        (
            &fixture("web/bad-base64.json"),
            "marked isBase64Encoded but is not base64",
        ),
        (
            &fixture("web/bad-no-path.json"),
            "API Gateway REST event has no path",
        ),
        (
            &fixture("web/bad-no-method.json"),
            "function URL event has no HTTP method",
        ),
        (b"[1, 2]", "not an HTTP event"),
    ];
    let api = FakeApi::start();
    let ids = api.push_events(
        cases
            .iter()
            .map(|(event, _)| event.to_vec())
            .chain([fixture("web/function-url.json")]),
    );
    let mut bootstrap = launch(&api, "web", &[]);
    let answers = api.wait_answers(&ids, PATIENCE);
    for ((_, says), answer) in cases.iter().zip(&answers) {
        assert_eq!(answer.endpoint, Endpoint::Error, "{says}");
        assert_eq!(answer.error_type(), "Runtime.InvalidEvent", "{says}");
        assert!(
            answer.error_message().contains(says),
            "{says}: {}",
            answer.error_message()
        );
    }
    assert_eq!(answers[5].endpoint, Endpoint::Response);
    assert!(bootstrap.is_running());
}

/// Runs `handler` on the fixture `name` through the adapter, in process.
fn call<B: Into<Body>>(
    name: &str,
    edit: impl FnOnce(&mut Value),
    handler: impl FnMut(Request, &Context) -> Result<Response<B>, Error>,
) -> Value {
    let mut event = event(name);
    edit(&mut event);
    let mut out = Vec::new();
    web::handler(handler)
        .call(
            &serde_json::to_vec(&event).unwrap(),
            &Context::default(),
            &mut out,
        )
        .unwrap();
    serde_json::from_slice(&out).unwrap()
}

#[test]
fn the_comma_case_repeated_names_and_the_uri_query_survive_from_every_source() {
    // `?fields=na%2Cme&fields=x`: one value with a comma, then another.
    type Edit = fn(&mut Value);
    let edits: [(&str, Edit); 4] = [
        ("http-api", |e| {
            e["rawQueryString"] = json!("fields=na%2Cme&fields=x");
            e["queryStringParameters"] = json!({"fields": "na,me,x"});
        }),
        ("rest", |e| {
            e["multiValueQueryStringParameters"] = json!({"fields": ["na,me", "x"]});
        }),
        ("alb-multi", |e| {
            e["multiValueQueryStringParameters"] = json!({"fields": ["na%2Cme", "x"]});
        }),
        ("lattice", |e| {
            e["queryStringParameters"] = json!({"fields": ["na,me", "x"]});
        }),
    ];
    for (name, edit) in edits {
        let mut seen = None;
        call(name, edit, |request, _| {
            let fields: Vec<String> = request.query().all("fields").map(str::to_owned).collect();
            seen = Some((fields, request.uri().query().map(str::to_owned)));
            Ok(Response::new(""))
        });
        let (fields, uri_query) = seen.unwrap();
        assert_eq!(fields, ["na,me", "x"], "{name}");
        assert_eq!(
            uri_query.as_deref(),
            Some("fields=na%2Cme&fields=x"),
            "{name}"
        );
    }
}

#[test]
fn path_parameters_stage_variables_context_and_source_reach_the_handler() {
    let mut seen = Vec::new();
    for name in [
        "rest",
        "http-api",
        "function-url",
        "alb",
        "websocket-message",
        "lattice",
    ] {
        call(
            name,
            |_| {},
            |request, _| {
                seen.push((
                    request.source(),
                    request.path_params().get("id").cloned(),
                    request.stage_variables().get("env").cloned(),
                    request.request_context()["requestId"]
                        .as_str()
                        .map(str::to_owned),
                ));
                Ok(Response::new(()))
            },
        );
    }
    assert_eq!(
        seen,
        [
            (
                Some(Source::RestApi),
                Some("42".into()),
                Some("test".into()),
                Some("c6af9ac6-7b61-11e6-9a41-93e8deadbeef".into())
            ),
            (
                Some(Source::HttpApi),
                Some("7".into()),
                Some("prod".into()),
                Some("JKJaXmPLvHcESHA=".into())
            ),
            (Some(Source::FunctionUrl), None, None, Some("id".into())),
            (Some(Source::Alb), None, None, None),
            (
                Some(Source::WebSocket),
                None,
                None,
                Some("ABCD1234=".into())
            ),
            (Some(Source::VpcLattice), None, None, None),
        ]
    );
}

#[test]
fn the_http_api_stage_is_removed_from_the_path_only_when_it_is_named() {
    let path_of = |raw_path: &str, stage: &str| {
        let mut path = String::new();
        call(
            "http-api",
            |e| {
                e["rawPath"] = json!(raw_path);
                e["requestContext"]["stage"] = json!(stage);
            },
            |request, _| {
                path = request.uri().path().to_owned();
                Ok(Response::new(()))
            },
        );
        path
    };
    assert_eq!(path_of("/prod/items/7", "prod"), "/items/7");
    assert_eq!(path_of("/prod", "prod"), "/");
    assert_eq!(path_of("/production/x", "prod"), "/production/x");
    assert_eq!(path_of("/prod/items/7", "$default"), "/prod/items/7");
}

#[test]
fn binary_and_text_bodies_go_back_as_their_content_type_says() {
    let answer = |content_type: Option<&'static str>, body: Vec<u8>| {
        call(
            "rest",
            |_| {},
            move |_, _| {
                let mut response = Response::builder();
                if let Some(t) = content_type {
                    response = response.header("content-type", t);
                }
                Ok(response.body(body.clone())?)
            },
        )
    };
    let png = answer(Some("image/png"), b"\x89PNG".to_vec());
    assert_eq!(
        (png["body"].as_str(), png["isBase64Encoded"].as_bool()),
        (Some("iVBORw=="), Some(true))
    );
    let text = answer(Some("text/csv; charset=utf-8"), b"a,b".to_vec());
    assert_eq!(
        (text["body"].as_str(), text["isBase64Encoded"].as_bool()),
        (Some("a,b"), Some(false))
    );
    let untyped = answer(None, "café".as_bytes().to_vec());
    assert_eq!(
        (
            untyped["body"].as_str(),
            untyped["isBase64Encoded"].as_bool()
        ),
        (Some("café"), Some(false))
    );
    // Text by type but not UTF-8: JSON cannot carry it as a string.
    let broken = answer(Some("text/plain"), vec![0xff]);
    assert_eq!(
        (broken["body"].as_str(), broken["isBase64Encoded"].as_bool()),
        (Some("/w=="), Some(true))
    );
}

#[test]
fn several_cookies_and_header_values_go_back_in_each_shape() {
    let reply = |_: Request, _: &Context| -> Result<Response<&'static str>, Error> {
        Ok(Response::builder()
            .header("set-cookie", "a=1")
            .header("set-cookie", "b=2; Path=/")
            .header("vary", "accept")
            .header("vary", "origin")
            .body("")?)
    };
    let rest = call("rest", |_| {}, reply);
    assert_eq!(
        rest["multiValueHeaders"]["set-cookie"],
        json!(["a=1", "b=2; Path=/"])
    );
    assert_eq!(
        rest["multiValueHeaders"]["vary"],
        json!(["accept", "origin"])
    );
    assert!(rest.get("headers").is_none());
    let http = call("http-api", |_| {}, reply);
    assert_eq!(http["cookies"], json!(["a=1", "b=2; Path=/"]));
    assert_eq!(http["headers"], json!({"vary": "accept, origin"}));
    let alb = call("alb", |_| {}, reply);
    assert_eq!(
        alb["headers"],
        json!({"set-cookie": "a=1", "vary": "accept, origin"})
    );
    assert!(alb.get("multiValueHeaders").is_none());
    let alb_multi = call("alb-multi", |_| {}, reply);
    assert_eq!(
        alb_multi["multiValueHeaders"]["set-cookie"],
        json!(["a=1", "b=2; Path=/"])
    );
    assert!(alb_multi.get("headers").is_none());
    let socket = call("websocket-message", |_| {}, reply);
    assert_eq!(socket, json!({"statusCode": 200, "body": ""}));
}

#[test]
fn question_mark_works_in_a_web_handler_on_http_and_json_errors() {
    let mut out = Vec::new();
    let error = web::handler(
        |request: Request, _: &Context| -> Result<Response<String>, Error> {
            let value: Value = serde_json::from_slice(request.body().as_bytes())?;
            Ok(Response::builder().status(1000).body(value.to_string())?)
        },
    )
    .call(
        &fixture("web/function-url.json"),
        &Context::default(),
        &mut out,
    )
    .unwrap_err();
    assert_eq!(error.error_type(), "Error", "serde_json::Error: {error}");
    let error = web::handler(
        |_: Request, _: &Context| -> Result<Response<String>, Error> {
            Ok(Response::builder().status(1000).body(String::new())?)
        },
    )
    .call(
        &fixture("web/function-url.json"),
        &Context::default(),
        &mut out,
    )
    .unwrap_err();
    assert_eq!(error.error_type(), "Error");
    assert!(error.message().contains("status"), "{error}");
}

#[test]
fn cookies_sent_both_as_the_array_and_as_a_header_arrive_once() {
    // cargo lambda watch's function URL sends the 2.0 `cookies` array and the Cookie header.
    let mut cookies = Vec::new();
    call(
        "function-url",
        |e| e["headers"]["cookie"] = json!("cookie1=1; cookie2=2"),
        |request, _| {
            cookies = request
                .headers()
                .get_all("cookie")
                .iter()
                .map(|v| v.to_str().unwrap().to_owned())
                .collect();
            Ok(Response::new(()))
        },
    );
    assert_eq!(cookies, ["cookie1=1; cookie2=2"]);
}

#[test]
fn the_streamed_web_function_sends_status_headers_and_cookies_then_the_raw_body() {
    if std::env::var_os("BOOTSTRAP_FUNCTIONS").is_some() {
        return; // web-stream is in the all-handlers bootstrap only
    }
    let api = FakeApi::start();
    let ids = api.push_events([
        with_path("function-url", "/items/7"),
        with_path("function-url", "/bytes"),
    ]);
    let _bootstrap = launch(&api, "web-stream", &[]);
    let answers = api.wait_answers(&ids, PATIENCE);
    let (prelude, body) = answers[0].prelude_and_body();
    assert_eq!(
        prelude,
        json!({
            "statusCode": 200,
            "headers": {"content-type": "application/json", "x-served-by": "web"},
            "cookies": ["a=1", "b=2; Path=/"]
        })
    );
    let description: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(description["path"], "/items/7");
    assert_eq!(
        description["query"]["parameter1"],
        json!(["value1", "value2"])
    );
    let (prelude, body) = answers[1].prelude_and_body();
    assert_eq!(
        prelude["headers"]["content-type"],
        "application/octet-stream"
    );
    assert_eq!(
        body,
        (0..=255).collect::<Vec<u8>>(),
        "raw bytes, not base64"
    );
}

#[test]
fn a_streamed_web_body_is_sent_as_written_and_an_error_midway_ends_it_with_trailers() {
    if std::env::var_os("BOOTSTRAP_FUNCTIONS").is_some() {
        return; // the user binary is built for the host only
    }
    let api = FakeApi::start();
    let ids = api.push_events([
        with_path("function-url", "/lines/4"),
        with_path("function-url", "/fail"),
        fixture("web/bad-not-http.json"),
    ]);
    let binary = lambda_blocking_rt_tests::test_binary_path("web-stream-fn");
    let env = lambda_blocking_rt_tests::lambda_env(&api, "bootstrap", &[]);
    let mut process = lambda_blocking_rt_tests::Bootstrap::spawn_binary(&binary, None, &env);
    let answers = api.wait_answers(&ids, PATIENCE);

    let (prelude, body) = answers[0].prelude_and_body();
    assert_eq!(prelude["statusCode"], 201);
    assert_eq!(prelude["cookies"], json!(["a=1", "b=2; Path=/"]));
    assert_eq!(body, b"line 0\nline 1\nline 2\nline 3\n");
    // The lines 100 ms apart, each sent as written: the first long before the last.
    let chunks = &answers[0].chunks;
    let head_bytes = answers[0].body.len() - body.len();
    let mut sent = 0;
    let body_times: Vec<_> = chunks
        .iter()
        .filter_map(|&(at, size)| {
            sent += size;
            (sent > head_bytes).then_some(at)
        })
        .collect();
    let (first, last) = (body_times[0], body_times[body_times.len() - 1]);
    assert!(
        first < std::time::Duration::from_millis(90)
            && last >= std::time::Duration::from_millis(290),
        "{chunks:?}"
    );

    let (_, body) = answers[1].prelude_and_body();
    assert_eq!(body, b"line 0\n");
    assert_eq!(
        answers[1].trailer("Lambda-Runtime-Function-Error-Type"),
        Some("StoreError")
    );

    // Not an HTTP event: an ordinary error report, before any byte.
    assert_eq!(answers[2].endpoint, Endpoint::Error);
    assert_eq!(answers[2].error_type(), "Runtime.InvalidEvent");
    assert!(process.is_running(), "{}", process.stderr());
}

#[test]
fn any_field_of_any_type_is_answered_or_an_invalid_event_never_a_panic() {
    // Every top-level and requestContext field of every fixture replaced by each JSON type:
    // the adapter must call the handler or answer Runtime.InvalidEvent, whatever arrives.
    let replacements = [
        json!(null),
        json!(0),
        json!(""),
        json!("x y%zz\u{0}é"),
        json!([]),
        json!(["a", 1]),
        json!({}),
        json!({"a": "b", "c": ["d"], "e": null}),
    ];
    let mut cases = 0;
    for name in SOURCES {
        let original = event(name);
        let mut paths: Vec<Vec<String>> = Vec::new();
        for (key, value) in original.as_object().unwrap() {
            paths.push(vec![key.clone()]);
            if key == "requestContext" {
                for inner in value.as_object().unwrap().keys() {
                    paths.push(vec![key.clone(), inner.clone()]);
                }
            }
        }
        for path in &paths {
            for replacement in &replacements {
                let mut edited = original.clone();
                let mut slot = &mut edited;
                for key in path {
                    slot = &mut slot[key.as_str()];
                }
                *slot = replacement.clone();
                let mut out = Vec::new();
                let result = web::handler(|request: Request, _: &Context| {
                    let _ = (request.query(), request.source(), request.request_context());
                    Ok::<_, Error>(Response::new(request.into_body()))
                })
                .call(
                    &serde_json::to_vec(&edited).unwrap(),
                    &Context::default(),
                    &mut out,
                );
                if let Err(e) = result {
                    assert_eq!(
                        e.error_type(),
                        "Runtime.InvalidEvent",
                        "{name} {path:?}: {e}"
                    );
                }
                cases += 1;
            }
        }
    }
    assert!(cases > 500, "{cases}");
}
