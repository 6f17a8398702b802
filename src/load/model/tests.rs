use super::*;

fn latency(p95_us: u64) -> Latency {
    Latency { p50_us: 1000, p95_us, p99_us: p95_us, ..Latency::default() }
}

#[test]
fn each_threshold_can_be_breached_and_met() {
    let t = Thresholds {
        p95_ms: Some(10.0),
        max_unexpected_share: Some(0.01),
        min_throughput: Some(100.0),
        ..Thresholds::default()
    };
    let cases = [
        ((1000, 0, 200.0, latency(5_000)), 0),
        ((1000, 0, 200.0, latency(11_000)), 1),
        ((1000, 20, 200.0, latency(5_000)), 1),
        ((1000, 0, 50.0, latency(5_000)), 1),
        ((0, 0, 0.0, latency(5_000)), 2),
    ];
    for ((requests, unexpected, throughput, latency), breached) in cases {
        let checks = judge(&t, requests, unexpected, throughput, &latency);
        assert_eq!(checks.len(), 3, "every threshold is shown, met or not");
        assert_eq!(checks.iter().filter(|c| !c.met).count(), breached, "{checks:?}");
    }
    assert!(judge(&Thresholds::default(), 0, 0, 0.0, &latency(1_000_000_000)).is_empty());
}

fn profile(extra: &str) -> Result<Pacing, String> {
    let text = format!("name: p\nusers: 4\ntransactions: []\n{extra}");
    serde_norway::from_str::<LoadProfile>(&text).map_err(|e| e.to_string())?.pacing().map_err(|e| e.to_string())
}

#[test]
fn the_pacing_is_closed_open_or_staged_and_never_ambiguous() {
    assert_eq!(profile("run_time: 5"), Ok(Pacing::Closed { users: 4, hatch_rate: 1.0, run_time_s: 5 }));
    assert_eq!(profile("run_time: 5\nrate: 100"), Ok(Pacing::Open { users: 4, stages: vec![(0, 100.0), (5, 100.0)] }));
    assert_eq!(
        profile("stages: [{ duration_s: 2, rate: 10 }, { duration_s: 3, rate: 10 }]"),
        Ok(Pacing::Open { users: 4, stages: vec![(0, 0.0), (2, 10.0), (3, 10.0)] })
    );
    for bad in [
        "",
        "rate: 10",
        "rate: 10\nstages: [{ duration_s: 1, rate: 1 }]",
        "run_time: 1\nstages: [{ duration_s: 1, rate: 1 }]",
    ] {
        assert!(profile(bad).is_err(), "{bad:?}");
    }
    for out_of_range in
        ["run_time: 1\nrate: 0", "run_time: 1\nrate: -3", "run_time: 0", "stages: [{ duration_s: 1, rate: 1e9 }]"]
    {
        let error = profile(out_of_range).expect_err(out_of_range);
        assert!(error.contains("out of range"), "{out_of_range:?}: {error}");
    }
}

#[test]
fn shards_divide_users_and_rates_and_keep_the_run_time() {
    let closed = Pacing::Closed { users: 8, hatch_rate: 8.0, run_time_s: 10 };
    let users: Vec<usize> = (0..3)
        .map(|i| match closed.share(i, 3) {
            Pacing::Closed { users, run_time_s: 10, .. } => users,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(users, vec![3, 3, 2]);
    let open = Pacing::Open { users: 3, stages: vec![(0, 0.0), (10, 300.0)] };
    assert_eq!(open.share(2, 3), Pacing::Open { users: 1, stages: vec![(0, 0.0), (10, 100.0)] });
}

#[test]
fn keep_clients_is_a_number_in_range_or_all() {
    let keep = |extra: &str| {
        let text = format!("name: p\nusers: 4\ntransactions: []\n{extra}");
        serde_norway::from_str::<LoadProfile>(&text).map(|p| p.keep_clients).map_err(|e| e.to_string())
    };
    let cases: [(&str, Result<KeepClients, ()>); 7] = [
        ("", Ok(KeepClients::Most(KeepClients::DEFAULT))),
        ("keep_clients: 1", Ok(KeepClients::Most(1))),
        ("keep_clients: all", Ok(KeepClients::All)),
        ("keep_clients: 0", Err(())),
        ("keep_clients: -3", Err(())),
        ("keep_clients: 100001", Err(())),
        ("keep_clients: some", Err(())),
    ];
    for (extra, expected) in cases {
        match (keep(extra), expected) {
            (Ok(got), Ok(want)) => assert_eq!(got, want, "{extra}"),
            (Err(e), Err(())) => assert!(e.contains("keep_clients is a number from 1 to 100000 or `all`"), "{e}"),
            (got, _) => panic!("{extra}: {got:?}"),
        }
    }
}

#[test]
fn suite_at_is_spelled_as_the_book_spells_it() {
    use crate::load::conformance::SuiteAt;
    let read = |extra: &str| {
        let text = format!("name: p\nusers: 4\ntransactions: []\n{extra}");
        serde_norway::from_str::<LoadProfile>(&text).map(|p| p.suite_at).map_err(|e| e.to_string())
    };
    let cases = [
        ("", Ok(SuiteAt::Share(0.8))),
        ("suite_at: { share: 0.5 }", Ok(SuiteAt::Share(0.5))),
        ("suite_at: { rate: 300 }", Ok(SuiteAt::Rate(300.0))),
        ("suite_at: { speed: 3 }", Err("unknown variant")),
        ("suite_at: { share: 0.5, rate: 3 }", Err("")),
    ];
    for (extra, expected) in cases {
        match (read(extra), expected) {
            (Ok(got), Ok(want)) => assert_eq!(got, want, "{extra:?}"),
            (Err(got), Err(want)) => assert!(got.contains(want), "{extra:?}: {got}"),
            (got, want) => panic!("{extra:?}: {got:?}, expected {want:?}"),
        }
    }
}
