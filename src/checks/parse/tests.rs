use super::*;
use crate::checks::Op;
use chrono::NaiveDate;

fn ok(s: &str) -> Check {
    parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}
fn bad(s: &str) -> ParseError {
    parse(s).expect_err(s)
}
fn col(s: &str) -> String {
    s.to_string()
}
fn term(metric: Metric) -> Term {
    Term {
        source: None,
        metric,
        filter: None,
    }
}
fn cmp_of(c: &Check) -> (&Expr, &Cmp) {
    match &c.body {
        Body::Compare { lhs, cmp } => (lhs, cmp),
        b => panic!("not a comparison: {b:?}"),
    }
}

#[test]
fn exists_and_severity() {
    assert_eq!(ok("exists").body, Body::Exists);
    assert_eq!(ok("exists").severity, Severity::Error);
    assert_eq!(ok("warn: exists").severity, Severity::Warn);
    assert_eq!(ok("error:exists").severity, Severity::Error);
}

#[test]
fn simple_metrics() {
    for (s, m) in [
        ("row_count > 0", Metric::RowCount),
        ("file_count = 3", Metric::FileCount),
        ("bytes >= 10", Metric::Bytes),
        ("exit_code = 0", Metric::ExitCode),
        ("value <= 1.5", Metric::Value),
        ("sum(spend) > 1", Metric::Sum(col("spend"))),
        ("mean(ctr) < 1", Metric::Mean(col("ctr"))),
        ("min(date) >= 2025-01-01", Metric::Min(col("date"))),
        ("max(date) <= 2025-12-31", Metric::Max(col("date"))),
        (
            "null_count(campaign_name) = 0",
            Metric::NullCount(col("campaign_name")),
        ),
        (
            "distinct_count(market) = 3",
            Metric::DistinctCount(vec![col("market")]),
        ),
        (
            "duplicate_count(campaign_id, date) = 0",
            Metric::DuplicateCount(vec![col("campaign_id"), col("date")]),
        ),
    ] {
        let c = ok(s);
        let (lhs, _) = cmp_of(&c);
        assert_eq!(lhs.terms, vec![(Sign::Plus, term(m))], "{s}");
    }
}

#[test]
fn comparisons() {
    let c = ok("row_count ~ 8000 ± 20%");
    assert_eq!(
        cmp_of(&c).1,
        &Cmp::Approx {
            target: 8000.0,
            tol: 20.0,
            percent: true
        }
    );
    let c = ok("sum(spend) ~ 2_000_000 +- 100000");
    assert_eq!(
        cmp_of(&c).1,
        &Cmp::Approx {
            target: 2_000_000.0,
            tol: 100_000.0,
            percent: false
        }
    );
    let c = ok("min(x) between -3 and 1.5");
    assert_eq!(
        cmp_of(&c).1,
        &Cmp::Between(Literal::Number(-3.0), Literal::Number(1.5))
    );
    for (s, op) in [
        ("value = 1", Op::Eq),
        ("value != 1", Op::Ne),
        ("value < 1", Op::Lt),
        ("value <= 1", Op::Le),
        ("value > 1", Op::Gt),
        ("value >= 1", Op::Ge),
    ] {
        assert_eq!(
            cmp_of(&ok(s)).1,
            &Cmp::Op(op, Operand::Literal(Literal::Number(1.0)))
        );
    }
    let c = ok("max(name) = 'it''s'");
    assert_eq!(
        cmp_of(&c).1,
        &Cmp::Op(Op::Eq, Operand::Literal(Literal::Str("it's".into())))
    );
}

#[test]
fn where_sources_and_sums() {
    let c = ok("warn: row_count where market = 'UK' ~ 2800 ± 10%");
    assert_eq!(c.severity, Severity::Warn);
    let (lhs, _) = cmp_of(&c);
    assert_eq!(
        lhs.terms[0].1.filter,
        Some(Filter {
            column: col("market"),
            op: Op::Eq,
            value: Literal::Str("UK".into())
        })
    );
    let c = ok("meta_ads.sum(spend) + google_ads.sum(spend) - tv.sum(spend) ~ 3600000 ± 5%");
    let (lhs, _) = cmp_of(&c);
    assert_eq!(lhs.terms.len(), 3);
    assert_eq!(lhs.terms[1].0, Sign::Plus);
    assert_eq!(lhs.terms[2].0, Sign::Minus);
    assert_eq!(lhs.terms[2].1.source.as_deref(), Some("tv"));
    let c = ok("leads.row_count > test_drives.row_count");
    match cmp_of(&c).1 {
        Cmp::Op(Op::Gt, Operand::Expr(e)) => {
            assert_eq!(e.terms[0].1.source.as_deref(), Some("test_drives"))
        }
        x => panic!("{x:?}"),
    }
    let c = ok("row_count where date >= 2025-09-01 > 0");
    let (lhs, _) = cmp_of(&c);
    assert_eq!(
        lhs.terms[0].1.filter.as_ref().unwrap().value,
        Literal::Date(NaiveDate::from_ymd_opt(2025, 9, 1).unwrap())
    );
}

#[test]
fn in_forms_and_quoted_names() {
    assert_eq!(
        ok("dealer_id in dealers.dealer_id").body,
        Body::InDataset {
            column: col("dealer_id"),
            dataset: col("dealers"),
            other_column: col("dealer_id")
        }
    );
    assert_eq!(
        ok("market in ('UK', 'DE', 'FR')").body,
        Body::InList {
            column: col("market"),
            values: vec![
                Literal::Str("UK".into()),
                Literal::Str("DE".into()),
                Literal::Str("FR".into())
            ]
        }
    );
    let c = ok("sum(`Spend (£)`) > 0");
    assert_eq!(
        cmp_of(&c).0.terms[0].1.metric,
        Metric::Sum(col("Spend (£)"))
    );
    let c = ok("null_count(\"first name\") = 0");
    assert_eq!(
        cmp_of(&c).0.terms[0].1.metric,
        Metric::NullCount(col("first name"))
    );
}

#[test]
fn errors_with_offsets() {
    let e = bad("sum(spend) spend");
    assert_eq!(e.offset, 11);
    assert_eq!(
        e.message,
        "expected a comparison (=, !=, <, <=, >, >=, between, ~) at offset 11, found `spend`"
    );
    let e = bad("row_count where market = 'UK' ~ 2800 10%");
    assert_eq!(e.offset, 37);
    assert!(e.message.contains("`±` or `+-`"), "{}", e.message);
    let e = bad("sum(spend > 3");
    assert_eq!(e.offset, 10);
    let e = bad("rows > 3");
    assert_eq!(e.offset, 0);
    assert!(e.message.starts_with("expected a metric"), "{}", e.message);
    let e = bad("min(date) >= 2025-13-01");
    assert_eq!(
        (e.offset, e.message.as_str()),
        (13, "invalid date `2025-13-01` at offset 13")
    );
    let e = bad("market in ('UK', 'DE'");
    assert_eq!(e.offset, 21);
    assert!(
        e.message.ends_with("found the end of the check"),
        "{}",
        e.message
    );
    let e = bad("market = 'UK");
    assert_eq!(e.offset, 9);
    let e = bad("row_count > 3 3");
    assert_eq!(e.offset, 14);
    let e = bad("fatal: exists");
    assert_eq!(e.offset, 0);
    let e = bad("");
    assert_eq!(e.offset, 0);
    let e = bad("value between 1 or 2");
    assert_eq!(e.offset, 16);
    let e = bad("value > 12abc");
    assert_eq!(e.offset, 8);
    let e = bad("value ~ 3 ± -1");
    assert!(e.message.contains("negative"), "{}", e.message);
    let e = bad("value # 3");
    assert_eq!(e.offset, 6);
    let e = bad("row_count ~ 8000 ± 20% ±");
    assert_eq!(e.offset, "row_count ~ 8000 ± 20% ".len());
}
