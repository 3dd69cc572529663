//! The masker as tests/test_mask.py pins it down, case for case where it matters most: what
//! each rule catches, what it leaves alone, placeholders, pseudonyms, rounds and counts.

use serde_json::{json, Map, Value};

use super::*;

const KEY: &[u8] = b"test-key-for-logkit-masking-0001";
const JWT: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
const PEM: &str = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi3ZeHkLW7g1VhlAqlFdqQ0\nnKXpPeb3cNtIvXkzS1ZQ8CkH2KPZ8oc1gHp4w6LQ6lAqeYxS1qx3fTqoxAqr\n-----END RSA PRIVATE KEY-----";

fn masker() -> Masker {
    Masker::from_config(&MaskConfig::default()).unwrap()
}

fn with(config: MaskConfig) -> Masker {
    Masker::from_config(&config).unwrap()
}

fn mask(text: &str) -> String {
    masker().mask_text(text, &mut Counts::default())
}

fn masked_attrs(masker: &Masker, attrs: Value) -> Value {
    let mut event: Map<String, Value> =
        serde_json::from_value(json!({"ts": 1795341662123000u64, "level": "INFO", "attrs": attrs}))
            .unwrap();
    masker.mask_event(&mut event, &mut Counts::default());
    event["attrs"].clone()
}

#[test]
fn key_rules_mask_whole_values_under_sensitive_names_at_any_depth() {
    let m = masker();
    for key in [
        "X-Api-Key",
        "API.KEY",
        "api_key",
        "Set-Cookie",
        "Proxy-Authorization",
        "CVV",
        "db_password",
        "x-auth-token",
        "aws_secret_access_key",
        "csrf_token",
    ] {
        assert_eq!(
            json!({key: "[MASKED:key]"}),
            masked_attrs(&m, json!({key: "abc"})),
            "{key}"
        );
    }
    for key in ["input_tokens", "token_count", "password_reset_url", "key"] {
        assert_eq!(
            json!({key: 17}),
            masked_attrs(&m, json!({key: 17})),
            "{key}"
        );
    }
    assert_eq!(
        json!({"session": "[MASKED:key]", "secrets": "[MASKED:key]"}),
        masked_attrs(
            &m,
            json!({"session": {"id": "abc", "user": {"name": "bob"}}, "secrets": [1, 2]})
        )
    );
    assert_eq!(
        json!({"request": {"headers": [{"authorization": "[MASKED:key]"}, {"accept": "*/*"}]}}),
        masked_attrs(
            &m,
            json!({"request": {"headers": [{"authorization": "Bearer x"}, {"accept": "*/*"}]}})
        )
    );
    assert_eq!(
        json!({"cvv": "[MASKED:key]", "pin_otp": "[MASKED:key]"}),
        masked_attrs(&m, json!({"cvv": 123, "pin_otp": 4.5}))
    );
    assert_eq!(
        json!({"token": null, "has_password": true}),
        masked_attrs(&m, json!({"token": null, "has_password": true}))
    );
}

#[test]
fn allow_keys_and_extra_keys() {
    let m = with(MaskConfig {
        allow_keys: vec!["session_id".into()],
        ..MaskConfig::default()
    });
    assert_eq!(
        json!({"session_id": "s1", "session": "[MASKED:key]"}),
        masked_attrs(&m, json!({"session_id": "s1", "session": "s2"}))
    );
    let m = with(MaskConfig {
        keys: vec!["Tax-ID".into()],
        ..MaskConfig::default()
    });
    assert_eq!(
        json!({"customer_tax_id": "[MASKED:key]"}),
        masked_attrs(&m, json!({"customer_tax_id": "1"}))
    );
}

#[test]
fn text_pairs() {
    let cases = [
        (
            "login password=hunter2 user=bob",
            "login password=[MASKED:key] user=bob",
        ),
        (r#"{"api_key":"abc123"}"#, r#"{"api_key":"[MASKED:key]"}"#),
        (
            r#"{"password": 1234, "x": 1}"#,
            r#"{"password": "[MASKED:key]", "x": 1}"#,
        ),
        (
            "Authorization: Bearer abc.def",
            "Authorization: [MASKED:key]",
        ),
        ("X-Api-Key: k-123", "X-Api-Key: [MASKED:key]"),
        ("Cookie: theme=dark; sid=abc", "Cookie: [MASKED:key]"),
        (
            "GET /v1/search?token=abc&page=2",
            "GET /v1/search?token=[MASKED:key]&page=2",
        ),
        (
            "GET /img?key=abc&sig=def",
            "GET /img?key=[MASKED:key]&sig=[MASKED:key]",
        ),
        ("secret = 's3 cr3t' ok", "secret = '[MASKED:key]' ok"),
        (
            r#"{"password": "a", "password": "b"}"#,
            r#"{"password": "[MASKED:key]", "password": "[MASKED:key]"}"#,
        ),
        (
            r#"{"body": "{\"token\": \"abc\"}"}"#,
            r#"{"body": "{\"token\": \"[MASKED:key]\"}"}"#,
        ),
        (
            r#"{"level": "info", "password": "hunter2 and more"#,
            r#"{"level": "info", "password": "[MASKED:key]"#,
        ),
        (
            r#"{"token": null, "password": false}"#,
            r#"{"token": null, "password": false}"#,
        ),
        (
            "input_tokens=5 max_tokens: 7",
            "input_tokens=5 max_tokens: 7",
        ),
        (
            r#"{"session": {"id": "abc", "n": [1, 2]}, "x": 1}"#,
            r#"{"session": "[MASKED:key]", "x": 1}"#,
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(expected, mask(text), "{text}");
    }
}

#[test]
fn value_detectors_mask_what_they_are_for() {
    let cases: Vec<(String, &str)> = vec![
        ("to bob@example.com ok".into(), "to [MASKED:email] ok"),
        (
            "to Jane.Doe+logs@mail.example.co.uk ok".into(),
            "to [MASKED:email] ok",
        ),
        (
            "paid with 4111 1111 1111 1111 today".into(),
            "paid with [MASKED:card] today",
        ),
        (
            "paid with 3782 822463 10005 today".into(),
            "paid with [MASKED:card] today",
        ),
        (
            "paid with 4222 2222 2222 2 today".into(),
            "paid with [MASKED:card] today",
        ),
        (
            "card 4111111111111111 exp 12/28 cvc 123".into(),
            "card [MASKED:card] exp 12/28 cvc 123",
        ),
        (format!("token {JWT} sent"), "token [MASKED:jwt] sent"),
        (
            "sent Bearer abcdef123456".into(),
            "sent Bearer [MASKED:auth]",
        ),
        (
            "sent Basic dXNlcjpwYXNzd29yZA==".into(),
            "sent Basic [MASKED:auth]",
        ),
        ("id AKIAIOSFODNN7EXAMPLE".into(), "id [MASKED:aws_key]"),
        (
            "key sk-proj-4fJx9aQ2rT7kLm3nPq8sVw1yZb6cDe0gHi end".into(),
            "key [MASKED:api_key] end",
        ),
        (
            "key AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe end".into(),
            "key [MASKED:api_key] end",
        ),
        (
            "key xoxp-123456789012-abcdefghij end".into(),
            "key [MASKED:api_key] end",
        ),
        (
            concat!(
                "hf hf_AbCdEfGhIjKlMnOpQrStUvWxYz01234567",
                " r8 r8_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789A"
            )
            .into(),
            "hf [MASKED:api_key] r8 [MASKED:api_key]",
        ),
        (
            format!(
                "groq gsk_{} npm npm_{} pypi pypi-AgEIcHlwaS5vcmc{}",
                "a1".repeat(26),
                "B2".repeat(18),
                "_-x9".repeat(12)
            ),
            "groq [MASKED:api_key] npm [MASKED:api_key] pypi [MASKED:api_key]",
        ),
        (
            format!("xai xai-{} pplx pplx-{}", "Q7".repeat(40), "z3".repeat(24)),
            "xai [MASKED:api_key] pplx [MASKED:api_key]",
        ),
        (
            format!(
                "stripe whsec_{} langsmith lsv2_pt_{}_{} pinecone pcsk_{}",
                "Ab3".repeat(10),
                "0f".repeat(16),
                "9a".repeat(5),
                "x7_Yz".repeat(12)
            ),
            "stripe [MASKED:api_key] langsmith [MASKED:api_key] pinecone [MASKED:api_key]",
        ),
        (
            format!(
                "tavily tvly-dev-{} fireworks fw_{} vault hvs.{} google ya29.{} {}",
                "Q1w2E3".repeat(5),
                "3Zx9".repeat(6),
                "CAESI".repeat(10),
                "a0AfH6SM-x_Y".repeat(8),
                format_args!("GOCSPX-{}", "k3-Lm_9Zq".repeat(3)),
            ),
            "tavily [MASKED:api_key] fireworks [MASKED:api_key] vault [MASKED:api_key] google [MASKED:api_key] [MASKED:api_key]",
        ),
        (
            format!(
                "docker dckr_pat_{} grafana glsa_{} notion ntn_{} linear lin_api_{}",
                "Xy-9_".repeat(6),
                "aB3_cD4".repeat(6),
                "N0t10n".repeat(8),
                "L1n3ar".repeat(7)
            ),
            "docker [MASKED:api_key] grafana [MASKED:api_key] notion [MASKED:api_key] linear [MASKED:api_key]",
        ),
        (
            format!(
                "alert https://hooks.slack.com/services/T0ABCDEF1/B0GHIJKL2/{} and https://discord.com/api/webhooks/1234567890123456789/{}?wait=true",
                "aB3dE6gH9jK2mN5pQ8sT1vW4",
                "Zx-9_".repeat(14)
            ),
            "alert https://[MASKED:api_key] and https://[MASKED:api_key]?wait=true",
        ),
        (
            "short whsec_abc fw_version hvs.x ya29.a tvly-x ntn_1 lin_api_key glsa_ok".into(),
            "short whsec_abc fw_version hvs.x ya29.a tvly-x ntn_1 lin_api_key glsa_ok",
        ),
        (
            format!(
                "sendgrid SG.{}.{} sent",
                "a-_9".repeat(5) + "ab",
                "Z".repeat(43)
            ),
            "sendgrid [MASKED:api_key] sent",
        ),
        (
            "short hf_abc r8_x gsk_ npm_run SG.a.b pypi-install xai-grok pplx-api".into(),
            "short hf_abc r8_x gsk_ npm_run SG.a.b pypi-install xai-grok pplx-api",
        ),
        (
            format!("key:\n{PEM}\ndone"),
            "key:\n[MASKED:private_key]\ndone",
        ),
        (format!("key {}", &PEM[..80]), "key [MASKED:private_key]"),
        (
            "postgres://admin:s3cr3t@db:5432/app".into(),
            "postgres://[MASKED:url_creds]@db:5432/app",
        ),
        (
            "https://u:p@ss@example.com/x".into(),
            "https://[MASKED:url_creds]@example.com/x",
        ),
        (
            "redis://:pw@cache:6379".into(),
            "redis://[MASKED:url_creds]@cache:6379",
        ),
        ("ssn 123-45-6789 on file".into(), "ssn [MASKED:ssn] on file"),
        (
            "refund to DE89370400440532013000.".into(),
            "refund to [MASKED:iban].",
        ),
        (
            "to GB29 NWBK 6016 1331 9268 19 ok".into(),
            "to [MASKED:iban] ok",
        ),
        // A value under a sensitive name, printed in groups, is masked whole, not its first.
        (
            "iban=GB29 NWBK 6016 1331 9268 19 ok".into(),
            "iban=[MASKED:key] ok",
        ),
        (
            "card_number=4111 1111 1111 1111 cvv=123".into(),
            "card_number=[MASKED:key] cvv=[MASKED:key]",
        ),
        (
            "token: +44 20 7946 0958 sent".into(),
            "token: [MASKED:key] sent",
        ),
        (
            "call +44 20 7946 0958 now".into(),
            "call [MASKED:phone] now",
        ),
        (
            "call +1 (415) 555-2671 now".into(),
            "call [MASKED:phone] now",
        ),
        ("call (415) 555-2671 now".into(), "call [MASKED:phone] now"),
        ("call 1-415-555-2671 now".into(), "call [MASKED:phone] now"),
        ("call 415.555.2671 now".into(), "call [MASKED:phone] now"),
        ("from 255.255.255.255 in".into(), "from [MASKED:ipv4] in"),
        ("10.0.0.1:8080".into(), "[MASKED:ipv4]:8080"),
        ("from fe80::1%eth0 in".into(), "from [MASKED:ipv6] in"),
        ("from ::ffff:10.0.0.1 in".into(), "from [MASKED:ipv6] in"),
        (
            "from 2001:0db8:85a3:0000:0000:8a2e:0370:7334 in".into(),
            "from [MASKED:ipv6] in",
        ),
        ("[2001:db8::1]:8080".into(), "[[MASKED:ipv6]]:8080"),
        (
            "bob@example.com+14155552671".into(),
            "[MASKED:email][MASKED:phone]",
        ),
        (
            "GET /order?email=Jane.Roe%40example.com HTTP/1.1".into(),
            "GET /order?email=[MASKED:email] HTTP/1.1",
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(expected, mask(&text), "{text}");
    }
}

#[test]
fn what_logs_are_made_of_is_left_alone() {
    for text in [
        "celery@worker-3 ready",
        "@app.get decorator",
        "nginx@sha256:abc",
        "pkg@1.2.3",
        "5500-0000-0000-00046",
        "41 11 11 11 11 11 11 11",
        "order 4111111111111112",
        "epoch 1732270862123456789",
        "luhn-valid but starts with 1: 1000000000000009",
        "id 4111111111111111abc",
        "eyJ is how a JWT starts; app.api.handler",
        "Basic auth failed",
        "Bearer token expired",
        "Basic usage",
        "AKIAIOSFODNN7EXAMPLEXYZ",
        "task-queue sk-learn ghp_x",
        "xoxo-gossip",
        "risk-free",
        "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqh\n-----END PUBLIC KEY-----",
        "GET https://api.example.com:8443/v1/jobs/123?page=2",
        "ssn 000-12-3456",
        "iban DE89370400440532013001 fails its check",
        "order AB12CDEF3456, trace 4BF92F3577B34DA6A3CE929D0E0E4736",
        "utf-8 ES2022 HTTP2 TLS13 AES256GCM SHA384",
        "ssn 666-12-3456",
        "ssn 900-12-3456",
        "ssn 123-00-4567",
        "ssn 123-45-0000",
        "2026-11-22 order 123-45-67890 part 12-345-6789",
        "epoch 1732270862123",
        "id 4155552671",
        "at 2026-11-22T10:01:02+05:30",
        "offset +00:00",
        "retry +1 in 5s",
        "build 415-555-26710",
        "v1.2.3.4",
        "1.2.3.4.5",
        "1.2.3.256",
        "version 2.10.4",
        "01.02.03.04",
        "at 10:01:02",
        "std::vector",
        "Foo::Bar::baz",
        "mac 00:1a:2b:3c:4d:5e",
        "a :: b",
        "trace 4bf92f3577b34da6a3ce929d0e0e4736 span 00f067aa0ba902b7",
        "Task jobs.embed[5d4b4c3e-1d2f-4a2b-9c1d-0e2f3a4b5c6d] succeeded in 0.5320s: None",
        "retries=3 page=2 limit=50 cache_key=users:42",
        "ValueError: invalid literal for int() with base 10: 'abc'",
        "  at com.example.Handler.run(Handler.java:118)",
    ] {
        assert_eq!(text, mask(text), "{text}");
    }
}

#[test]
fn a_long_run_of_numbers_takes_linear_time() {
    let text = "1234 ".repeat(13_000);
    let started = std::time::Instant::now();
    assert_eq!(text, mask(&text));
    assert!(started.elapsed().as_secs() < 5);
}

#[test]
fn cards_as_json_integers_in_attrs_but_never_canonical_numbers() {
    let m = masker();
    assert_eq!(
        json!({"n": "[MASKED:card]", "m": 4111111111111112u64}),
        masked_attrs(
            &m,
            json!({"n": 4111111111111111u64, "m": 4111111111111112u64})
        )
    );
    let mut event: Map<String, Value> = serde_json::from_value(
        json!({"ts": 4111111111111111u64, "input_tokens": 4111111111111111u64}),
    )
    .unwrap();
    let before = event.clone();
    m.mask_event(&mut event, &mut Counts::default());
    assert_eq!(before, event);
}

#[test]
fn dict_keys_are_masked_and_collisions_keep_every_value() {
    let attrs = masked_attrs(
        &masker(),
        json!({"bob@example.com": 1, "ann@example.com": 2, "n": 3}),
    );
    assert_eq!(
        r#"{"[MASKED:email]":1,"[MASKED:email]~2":2,"n":3}"#,
        serde_json::to_string(&attrs).unwrap()
    );
}

#[test]
fn id_columns_skip_the_scan_only_in_an_id_shape() {
    let m = masker();
    let mut event: Map<String, Value> = serde_json::from_value(
        json!({"trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "span_id": "4111111111111111"}),
    )
    .unwrap();
    let before = event.clone();
    m.mask_event(&mut event, &mut Counts::default());
    assert_eq!(before, event);
    let mut event: Map<String, Value> = serde_json::from_value(
        json!({"trace_id": "4111-1111-1111-1111", "span_id": "078-05-1120"}),
    )
    .unwrap();
    m.mask_event(&mut event, &mut Counts::default());
    assert_eq!(
        json!({"trace_id": "[MASKED:card]", "span_id": "[MASKED:ssn]"}),
        Value::Object(event)
    );
}

#[test]
fn pseudonyms_name_the_detector_and_agree_across_spellings() {
    let m = with(MaskConfig {
        mode: "pseudonymize".into(),
        key: Some(KEY.to_vec()),
        ..MaskConfig::default()
    });
    let mut counts = Counts::default();
    let first = m.mask_text("bob@example.com", &mut counts);
    assert!(first.starts_with("email:") && first.len() == 18, "{first}");
    assert_eq!(first, m.mask_text("Bob@Example.com", &mut counts));
    assert_eq!(first, m.mask_text(&first, &mut counts));
    assert_eq!(
        format!("GET /?email={first} x"),
        m.mask_text("GET /?email=bob%40example.com x", &mut counts)
    );
    let attrs = masked_attrs(&m, json!({"password": "hunter2", "pwd": "hunter2"}));
    assert_eq!(attrs["password"], attrs["pwd"]);
    assert!(attrs["password"].as_str().unwrap().starts_with("key:"));
}

#[test]
fn fields_are_pseudonymised_whole_and_once() {
    let m = with(MaskConfig {
        fields: vec!["user_id".into(), "account".into()],
        key: Some(KEY.to_vec()),
        ..MaskConfig::default()
    });
    let mut event: Map<String, Value> =
        serde_json::from_value(json!({"user_id": "42", "attrs": {"account": {"id": 1}}})).unwrap();
    let mut counts = Counts::default();
    m.mask_event(&mut event, &mut counts);
    assert_eq!(
        Value::String(m.pseudonym("user_id", "42").unwrap()),
        event["user_id"]
    );
    assert!(event["attrs"]["account"]
        .as_str()
        .unwrap()
        .starts_with("account:"));
    let once = event.clone();
    m.mask_event(&mut event, &mut counts);
    assert_eq!(once, event);
    assert_eq!(2, counts.of("user_id") + counts.of("account"));
}

#[test]
fn masked_output_is_final_and_counts_nothing() {
    let m = masker();
    let mut counts = Counts::default();
    let once = m.mask_text("bob@example.com password=x 4111111111111111", &mut counts);
    assert_eq!(3, counts.values().sum::<u64>());
    let mut again = Counts::default();
    assert_eq!(once, m.mask_text(&once, &mut again));
    assert!(again.is_empty());
    let mut counts = Counts::default();
    assert_eq!("[MASKED:ipv4]", m.mask_text("203.0.113.9", &mut counts));
    assert_eq!(1, counts.of("ipv4"));
}

#[test]
fn nesting_too_deep_to_walk_is_masked_fail_closed() {
    let mut deep = json!("bob@example.com");
    for _ in 0..1000 {
        deep = Value::Array(vec![deep]);
    }
    let m = masker();
    let mut counts = Counts::default();
    let mut event: Map<String, Value> = Map::new();
    event.insert("attrs".into(), json!({"deep": deep, "ok": "fine"}));
    m.mask_event(&mut event, &mut counts);
    let mut node = &event["attrs"]["deep"];
    while let Value::Array(items) = node {
        node = &items[0];
    }
    assert_eq!(
        ("[MASKED:error]", "fine"),
        (
            node.as_str().unwrap(),
            event["attrs"]["ok"].as_str().unwrap()
        )
    );
    assert_eq!(1, counts.of("error"));
}

#[test]
fn configuration_errors_are_named() {
    let cases: Vec<(MaskConfig, &str)> = vec![
        (
            MaskConfig {
                mode: "hash".into(),
                ..MaskConfig::default()
            },
            "mode must be 'placeholder' or 'pseudonymize'",
        ),
        (
            MaskConfig {
                disable: vec!["emails".into()],
                ..MaskConfig::default()
            },
            "disable: unknown detector 'emails'",
        ),
        (
            MaskConfig {
                pseudonymize: vec!["nope".into()],
                key: Some(KEY.to_vec()),
                ..MaskConfig::default()
            },
            "pseudonymize: unknown detector 'nope'",
        ),
        (
            MaskConfig {
                detectors: vec![("Bad Name".into(), "x".into())],
                ..MaskConfig::default()
            },
            "'Bad Name': a detector name is lowercase",
        ),
        (
            MaskConfig {
                detectors: vec![("email".into(), "x".into())],
                ..MaskConfig::default()
            },
            "'email' is a built-in detector name",
        ),
        (
            MaskConfig {
                detectors: vec![("order_ref".into(), "ORD-(\\d+".into())],
                ..MaskConfig::default()
            },
            "[mask.detectors] 'order_ref': invalid regex",
        ),
    ];
    for (config, message) in cases {
        let error = Masker::from_config(&config)
            .err()
            .expect("refused")
            .to_string();
        assert!(error.contains(message), "{error}");
    }
    let missing = Masker::from_config(&MaskConfig {
        fields: vec!["user_id".into()],
        ..MaskConfig::default()
    });
    assert_eq!(Some(MaskError::KeyMissing), missing.err());
    assert!(Masker::from_config(&MaskConfig {
        enabled: false,
        mode: "hash".into(),
        ..MaskConfig::default()
    })
    .is_ok());
}

#[test]
fn disabled_and_custom_detectors() {
    let m = with(MaskConfig {
        disable: vec!["ipv4".into(), "key".into()],
        ..MaskConfig::default()
    });
    assert_eq!(
        "10.0.0.1 password=x [MASKED:email]",
        m.mask_text(
            "10.0.0.1 password=x bob@example.com",
            &mut Counts::default()
        )
    );
    let m = with(MaskConfig {
        disable: BUILTIN_DETECTORS.iter().map(|d| d.to_string()).collect(),
        ..MaskConfig::default()
    });
    assert_eq!(
        "bob@example.com password=x",
        m.mask_text("bob@example.com password=x", &mut Counts::default())
    );
    let m = with(MaskConfig {
        detectors: vec![("tenant".into(), r"tenant/(?P<value>\w+)".into())],
        ..MaskConfig::default()
    });
    assert_eq!(
        "GET /tenant/[MASKED:tenant]/x",
        m.mask_text("GET /tenant/acme/x", &mut Counts::default())
    );
    let m = with(MaskConfig {
        detectors: vec![("caps".into(), "[A-Z]{4,}".into())],
        ..MaskConfig::default()
    });
    assert_eq!(
        "[MASKED:email] [MASKED:caps]",
        m.mask_text("bob@example.com HELLO", &mut Counts::default())
    );
    assert!(m.needs_masking(b"{\"message\":\"hello\"}"));
}

#[test]
fn the_prefilter_lets_ordinary_lines_through_and_stops_the_rest() {
    let m = masker();
    for raw in [
        r#"{"message":"to bob@example.com"}"#,
        r#"{"message":"card 4111 1111 1111 1111"}"#,
        r#"{"n":4111111111111111}"#,
        r#"{"message":"ssn 123-45-6789"}"#,
        r#"{"message":"call 415.555.2671"}"#,
        r#"{"ip":"10.0.0.1"}"#,
        r#"{"ip":"::1"}"#,
        r#"{"password":"x"}"#,
        r#"{"X-Api-Key":"x"}"#,
        r#"{"nested":{"deeper":[{"Set-Cookie":"x"}]}}"#,
        r#"{"message":"login password: hunter2"}"#,
        r#"{"message":"GET /x?key=abc"}"#,
        r#"{"url":"https:\/\/u:p@db"}"#,
        r#"{"m":"\u0062ob@example.com"}"#,
        "{\"TO\u{212a}EN\":\"x\"}",
        r#"{"m":"x\n4111111111111111"}"#,
        r#"{"h":"ghp_16C7e42F292c6912E7710c838347Ae178B4a"}"#,
        r#"{"ip":"2001:0db8:85a3:0000:0000:8a2e:0370:7334"}"#,
    ] {
        assert!(m.needs_masking(raw.as_bytes()), "{raw}");
    }
    for raw in [
        r#"{"message":"GET /v1/jobs/123 200","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"}"#,
        r#"{"model":"gpt-4o-mini","input_tokens":523,"output_tokens":87,"cost_usd":0.0002}"#,
        r#"{"message":"took 12.5ms","version":"2.10.4","time":1732270862123}"#,
        r#"{"ts_ns":1795341662000000000,"ref":"44444444444444444444"}"#,
    ] {
        assert!(!m.needs_masking(raw.as_bytes()), "{raw}");
    }
    let m = with(MaskConfig {
        fields: vec!["user_id".into()],
        key: Some(KEY.to_vec()),
        field_aliases: Some(
            [(
                "user_id".to_string(),
                vec!["userId".to_string(), "user.id".to_string()],
            )]
            .into_iter()
            .collect(),
        ),
        ..MaskConfig::default()
    });
    assert!(m.needs_masking(br#"{"userId":"u1"}"#));
    assert!(m.needs_masking(br#"{"user":{"id":1}}"#));
    assert!(!m.needs_masking(br#"{"message":"hello"}"#));
}

#[test]
fn a_line_of_many_pairs_masks_each_value_alone() {
    // Each pair looks for a value printed in groups in a window after it, not to the end of
    // the line (which made this line's masking take the square of its length).
    let line = "token=abc ".repeat(5_000) + "card_number=4111 1111 1111 1111";
    let masked = masker().mask_text(&line, &mut Counts::default());
    assert_eq!(
        "token=[MASKED:key] ".repeat(5_000) + "card_number=[MASKED:key]",
        masked
    );
}

#[test]
fn one_masker_serves_every_thread() {
    fn shared<T: Send + Sync>() {}
    shared::<Masker>();
    let m = masker();
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                let mut counts = Counts::default();
                for _ in 0..3 {
                    assert_eq!(
                        "[MASKED:email] ok",
                        m.mask_text("bob@example.com ok", &mut counts)
                    );
                    assert_eq!("ok", m.mask_text("ok", &mut counts));
                }
                assert_eq!(3, counts.of("email"));
            });
        }
    });
}

mod gate_bytes {
    use proptest::prelude::*;

    use super::*;

    /// The ASCII bytes other than digits that open no gate, alone or after any two others,
    /// whose strings `mask_str` passes over without its table of clean strings or the gates
    /// (digits count towards a card's thirteen).
    fn free_bytes() -> &'static [u8] {
        static FREE: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
        FREE.get_or_init(|| {
            let clean =
                |bytes: &[u8]| Scanner::no_gate_possible(std::str::from_utf8(bytes).unwrap());
            (0u8..0x80)
                .filter(|b| !b.is_ascii_digit())
                .filter(|&b| {
                    (0u8..0x80).all(|x| (0u8..0x80).all(|y| !clean(&[x, y]) || clean(&[x, y, b])))
                })
                .collect()
        })
    }

    #[test]
    fn the_bytes_no_gate_needs_are_most_letters_and_some_punctuation() {
        let free = free_bytes();
        for b in b"acdeJBA0:=-_@%+(.".iter() {
            assert_eq!(free.contains(b), b"acde".contains(b), "{}", *b as char);
        }
        assert!(
            !Scanner::no_gate_possible("caf\u{e9}"),
            "beyond ASCII: the gates decide"
        );
    }

    #[test]
    fn ids_with_a_few_digits_and_underscores_open_no_gate_but_secrets_shapes_do() {
        for clean in [
            "req_c1e582e2e662",
            "u_10335",
            "/v1/jobs/0a5d6baa9455",
            "a.b-c_d",
            "123456789012",
        ] {
            assert!(Scanner::no_gate_possible(clean), "{clean}");
        }
        for shape in [
            "203.0.113.82",
            "123-45-6789",
            "4111111111111",
            "sk-x",
            "github_pat_",
            "glpat-",
            "hf_",
            "r8_",
            "gsk_",
            "npm_",
            "pypi-",
            "xai-",
            "pplx-",
            "SG.",
            "AKIA",
            "eyJ",
            "Bearer",
            "a@b",
            "a%40b",
            "+1",
            "(415)",
            "a:b",
            "a=b",
            "DE89",
            "whsec_",
            "lsv2_",
            "pcsk_",
            "tvly-",
            "fw_",
            "hvs.",
            "ya29.",
            "GOCSPX-",
            "dckr_pat_",
            "glsa_",
            "ntn_",
            "lin_api_",
            "hooks.",
            "discord.",
            "discordapp.",
        ] {
            assert!(!Scanner::no_gate_possible(shape), "{shape}");
        }
        // Every spelling of the API key gates' classes: `[sr]k_(?:live|test)_`,
        // `gh[pousr]_`, `xox[abprs]-`.
        let mut keys = Vec::new();
        for (s, live) in [("s", "live"), ("s", "test"), ("r", "live"), ("r", "test")] {
            keys.push(format!("{s}k_{live}_"));
        }
        keys.extend("pousr".chars().map(|c| format!("gh{c}_")));
        keys.extend("abprs".chars().map(|c| format!("xox{c}-")));
        for key in keys {
            assert!(!Scanner::no_gate_possible(&key), "{key}");
            assert!(masker().scanner.may_match(&key).is_some(), "{key}");
        }
    }

    /// The default masker and one with more sensitive words, built once for every case.
    fn maskers() -> &'static [Masker] {
        static MASKERS: std::sync::OnceLock<Vec<Masker>> = std::sync::OnceLock::new();
        MASKERS.get_or_init(|| {
            let wide = with(MaskConfig {
                keys: vec!["token".into(), "x".into()],
                ..MaskConfig::default()
            });
            vec![masker(), wide]
        })
    }

    /// Pieces of strings near the gates: their telltales and the neighbours that make or
    /// unmake them.
    const PIECES: &[&str] = &[
        "sk",
        "rk",
        "k",
        "s",
        "r",
        "gh",
        "h",
        "p",
        "o",
        "u",
        "at",
        "t",
        "x",
        "xo",
        "a",
        "b",
        "live",
        "test",
        "github",
        "gl",
        "-",
        "_",
        ".",
        " ",
        "0",
        "1",
        "2",
        "4",
        "9",
        "00",
        "123",
        "4111",
        "c1e5",
        "id",
        "req",
        "v1",
        "/",
        "ey",
        "IA",
        "K",
        "S",
        "earer",
        "asic",
        "40",
        "q",
        "ghr",
        "ghs",
        "xoxs",
        "xoxa",
        "pat",
        "glpat",
        "sk_live",
        "rk_test",
        "_pat",
        "hub",
        "hf",
        "f",
        "r8",
        "8",
        "gsk",
        "npm",
        "m",
        "pypi",
        "i",
        "xai",
        "pplx",
        "l",
        "SG",
        "G",
        "DE",
        "89",
        "NL91",
        "ABNA",
        "3704",
        "whsec",
        "ec",
        "lsv2",
        "v2",
        "pcsk",
        "tvly",
        "ly",
        "fw",
        "w",
        "hvs",
        "vs",
        "ya29",
        "GOCSPX",
        "PX",
        "dckr",
        "glsa",
        "sa",
        "ntn",
        "tn",
        "lin",
        "api",
        "pi",
        "hooks",
        "ks",
        ".slack",
        ".com",
        "/services/",
        "discord",
        "rd",
        "app",
        "pp",
        "/api/webhooks/",
    ];

    /// Figures and their separators, as tables, cards, phones, SSNs and addresses write them,
    /// with a few of the other gates' telltales.
    const FIGURES: &[&str] = &[
        "0", "1", "2", "4", "5", "9", "12", "123", "4111", "555", "2024", "99999", " ", "  ", "-",
        ".", ":", "::", "(", ")", "+", "+1", "(555) ", "555-", "10.0.", "fe80:", "a", "sk-", "=",
        "@", "%", "x", "\t", "\n", "eyJ", "AKIA", "Bearer ", "DE", "NL91 ", "ABNA",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        #[test]
        fn the_gates_asked_one_by_one_answer_as_their_set(
            pieces in proptest::collection::vec(proptest::sample::select(FIGURES), 0..40),
        ) {
            // Strings of figures (the ones asked a gate at a time) and of the gates' other
            // telltales, so that either path meets every gate matching and not.
            let s = pieces.concat();
            for m in maskers() {
                prop_assert_eq!(m.scanner.may_match_by_set(&s), m.scanner.may_match_each(&s));
            }
        }

        #[test]
        fn a_string_that_opens_no_gate_matches_no_gate_and_is_left_alone(
            pieces in proptest::collection::vec(proptest::sample::select(PIECES), 0..24),
        ) {
            let s = pieces.concat();
            for m in maskers() {
                if Scanner::no_gate_possible(&s) {
                    prop_assert_eq!(m.scanner.may_match(&s), None);
                    prop_assert_eq!(m.mask_str_rounds(&s, &mut Counts::default()), None);
                }
            }
        }

        #[test]
        fn a_string_of_bytes_no_gate_needs_opens_no_gate_and_is_left_alone(
            picks in proptest::collection::vec(any::<proptest::sample::Index>(), 0..48),
        ) {
            // The gates' own letters and punctuation (so that a byte missing from
            // `Towards` makes a match likely), less those some gate needs.
            let free: Vec<u8> = b"abefghiklmnoprstuxyzAKSIJBEGNOT:=-_@%+()./ \t\"'\\0123456789"
                .iter()
                .copied()
                .filter(|b| free_bytes().contains(b))
                .collect();
            let s: String = picks.iter().map(|i| char::from(free[i.index(free.len())])).collect();
            for m in maskers() {
                prop_assert_eq!(m.scanner.may_match(&s), None);
                prop_assert_eq!(m.mask_str_rounds(&s, &mut Counts::default()), None);
            }
        }
    }
}

mod whole_ipv4 {
    use proptest::prelude::*;

    use super::*;

    fn maskers() -> &'static [Masker] {
        static MASKERS: std::sync::OnceLock<Vec<Masker>> = std::sync::OnceLock::new();
        MASKERS.get_or_init(|| {
            let pseudonyms = with(MaskConfig {
                mode: "pseudonymize".into(),
                key: Some(b"a key".to_vec()),
                ..MaskConfig::default()
            });
            vec![masker(), pseudonyms]
        })
    }

    /// `scan`'s answer for `s`, through the gates, and the counts it made.
    fn scanned(m: &Masker, s: &str) -> (Option<String>, Counts) {
        let mut counts = Counts::default();
        let out = match m.scanner.may_match(s) {
            Some(open) => m.scanner.scan(m, s, open, &mut counts),
            None => None,
        };
        (out, counts)
    }

    #[test]
    fn a_value_that_is_one_address_is_masked_without_the_scan_and_no_other_is() {
        let m = masker();
        let mut counts = Counts::default();
        assert_eq!(
            Some("[MASKED:ipv4]".to_string()),
            m.scanner.whole_ipv4(&m, "203.0.113.82", &mut counts)
        );
        assert_eq!(1, counts.of("ipv4"));
        for other in [
            "999.1.1.1",
            "1.2.3",
            "01.2.3.4",
            "1.2.3.4.5",
            " 1.2.3.4",
            "1.2.3.4x",
            "1.2.3.4-5",
            "",
        ] {
            assert_eq!(
                None,
                m.scanner.whole_ipv4(&m, other, &mut counts),
                "{other}"
            );
        }
        let off = with(MaskConfig {
            disable: vec!["ipv4".into()],
            ..MaskConfig::default()
        });
        assert_eq!(
            None,
            off.scanner.whole_ipv4(&off, "203.0.113.82", &mut counts)
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1024))]

        #[test]
        fn an_address_masked_whole_is_what_the_scan_makes_of_it(
            before in proptest::sample::select(&["", "", "a", "-", "1", ".", " "][..]),
            octets in proptest::collection::vec(
                proptest::sample::select(
                    &["0", "1", "9", "25", "255", "256", "01", "192", "999", ""][..],
                ),
                3..6,
            ),
            after in proptest::sample::select(
                &["", "", "-5", ".", ".1", "a", ":", "/", " x", "_"][..],
            ),
        ) {
            let s = format!("{before}{}{after}", octets.join("."));
            for m in maskers() {
                let mut counts = Counts::default();
                if let Some(fast) = m.scanner.whole_ipv4(m, &s, &mut counts) {
                    prop_assert_eq!((Some(fast), counts), scanned(m, &s));
                }
            }
        }
    }
}
