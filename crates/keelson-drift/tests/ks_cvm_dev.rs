#![allow(clippy::unwrap_used)]
use keelson_drift::SortedSample;
use keelson_drift::cvm::{CvmMethod, cramervonmises_2samp};
use keelson_drift::ks::{Alternative, KsMethod, ks_2samp_with};
use keelson_drift::special::*;

fn num(v: &serde_json::Value) -> f64 {
    match v {
        serde_json::Value::String(s) if s == "NaN" => f64::NAN,
        serde_json::Value::String(s) if s == "Infinity" => f64::INFINITY,
        serde_json::Value::String(s) if s == "-Infinity" => f64::NEG_INFINITY,
        _ => v.as_f64().unwrap(),
    }
}
fn rel(a: f64, b: f64) -> f64 {
    if a == b || (a.is_nan() && b.is_nan()) { 0.0 } else if b == 0.0 { a.abs() } else { ((a - b) / b).abs() }
}

#[test]
fn cases() {
    let text = std::fs::read_to_string("/work/shared/anchors/drift/cases_public.json").unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut worst: std::collections::BTreeMap<String, (f64, f64, String)> = Default::default();
    for case in doc["cases"].as_array().unwrap() {
        let kind = case["kind"].as_str().unwrap();
        if kind == "categorical" { continue; }
        let name = case["name"].as_str().unwrap();
        let mut outs = &case["outputs"];
        let r: Vec<f64> = case["ref"].as_array().unwrap().iter().map(num).filter(|v| !v.is_nan()).collect();
        let c: Vec<f64> = case["cur"].as_array().unwrap().iter().map(num).filter(|v| !v.is_nan()).collect();
        if kind == "numeric_nan" { outs = &outs["dropna"]; }
        let rs = SortedSample::new(&r, "reference").unwrap();
        let cs = SortedSample::new(&c, "current").unwrap();
        for (key, m) in [("ks_2samp_auto", KsMethod::Auto), ("ks_2samp_asymp", KsMethod::Asymptotic), ("ks_2samp_exact", KsMethod::Exact)] {
            let o = &outs[key];
            let res = ks_2samp_with(&rs, &cs, m, Alternative::TwoSided).unwrap();
            let es = num(&o["statistic"]); let ep = num(&o["pvalue"]);
            let rs_ = rel(res.statistic, es); let rp = rel(res.pvalue, ep);
            let loc_ok = res.statistic_location == num(&o["statistic_location"]) && f64::from(res.statistic_sign) == num(&o["statistic_sign"]);
            if !loc_ok { println!("LOC {name} {key}"); }
            let e = worst.entry(key.to_string()).or_insert((0.0, 0.0, String::new()));
            if rs_ > e.0 { e.0 = rs_; }
            if rp > e.1 { e.1 = rp; e.2 = name.to_string(); }
        }
        for (key, m) in [("cramervonmises_2samp_auto", CvmMethod::Auto), ("cramervonmises_2samp_asymptotic", CvmMethod::Asymptotic)] {
            let o = &outs[key];
            let res = cramervonmises_2samp(&rs, &cs, m).unwrap();
            let es = num(&o["statistic"]); let ep = num(&o["pvalue"]);
            let rs_ = rel(res.statistic, es); let rp = rel(res.pvalue.unwrap(), ep);
            let e = worst.entry(key.to_string()).or_insert((0.0, 0.0, String::new()));
            if rs_ > e.0 { e.0 = rs_; }
            if rp > e.1 { e.1 = rp; e.2 = name.to_string(); }
        }
    }
    for (k, v) in worst { println!("PUBLIC {k}: stat {:e} p {:e} ({})", v.0, v.1, v.2); }
}

#[test]
fn random_cases() {
    let Ok(text) = std::fs::read_to_string("/tmp/kscheck/cases.json") else { return };
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut worst: std::collections::BTreeMap<String, (f64, f64, String, String)> = Default::default();
    for case in doc.as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let a: Vec<f64> = case["a"].as_array().unwrap().iter().map(num).collect();
        let b: Vec<f64> = case["b"].as_array().unwrap().iter().map(num).collect();
        let rs = SortedSample::new(&a, "reference").unwrap();
        let cs = SortedSample::new(&b, "current").unwrap();
        for (key, o) in case["out"].as_object().unwrap() {
            let o = o.as_array().unwrap();
            let (es, ep) = (num(&o[0]), num(&o[1]));
            let (gs, gp, extra) = if let Some(rest) = key.strip_prefix("ks_") {
                let (alt, m) = rest.rsplit_once('_').unwrap();
                let alt = match alt { "two-sided" => Alternative::TwoSided, "less" => Alternative::Less, _ => Alternative::Greater };
                let m = match m { "auto" => KsMethod::Auto, "exact" => KsMethod::Exact, _ => KsMethod::Asymptotic };
                let r = ks_2samp_with(&rs, &cs, m, alt).unwrap();
                let ok = r.statistic_location == num(&o[2]) && f64::from(r.statistic_sign) == num(&o[3]);
                (r.statistic, r.pvalue, format!("loc_ok={ok}"))
            } else {
                let m = match &key[4..] { "auto" => CvmMethod::Auto, "exact" => CvmMethod::Exact, _ => CvmMethod::Asymptotic };
                let r = cramervonmises_2samp(&rs, &cs, m).unwrap();
                (r.statistic, r.pvalue.unwrap(), String::new())
            };
            let (rs_, rp) = (rel(gs, es), rel(gp, ep));
            if rs_ > 1e-12 || rp > 1e-10 || extra.contains("false") {
                println!("BAD {name} {key}: stat {es} vs {gs} ({rs_:e}); p {ep:e} vs {gp:e} ({rp:e}) {extra}");
            }
            let e = worst.entry(key.clone()).or_insert((0.0, 0.0, String::new(), String::new()));
            if rs_ > e.0 { e.0 = rs_; e.2 = name.to_string(); }
            if rp > e.1 { e.1 = rp; e.3 = name.to_string(); }
        }
    }
    for (k, v) in worst { println!("RANDOM {k}: stat {:e} ({}) p {:e} ({})", v.0, v.2, v.1, v.3); }
}

#[test]
fn perf_1e7() {
    let mut s: u64 = 12345;
    let mut next = || { s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407); (s >> 11) as f64 / (1u64 << 53) as f64 };
    let a: Vec<f64> = (0..10_000_000).map(|_| next()).collect();
    let b: Vec<f64> = (0..10_000_000).map(|_| next() * 1.001).collect();
    let rs = SortedSample::new(&a, "reference").unwrap();
    let cs = SortedSample::new(&b, "current").unwrap();
    let t = std::time::Instant::now();
    let s: f64 = rs.values().iter().sum::<f64>() + cs.values().iter().sum::<f64>();
    println!("PERF baseline sum: {:?} {s}", t.elapsed());
    let mut c = b.clone();
    let t = std::time::Instant::now();
    c.sort_unstable_by(f64::total_cmp);
    println!("PERF sort 1e7: {:?}", t.elapsed());
    let identical = SortedSample::new(&a, "x").unwrap();
    for _ in 0..5 {
        let t = std::time::Instant::now();
        let r = ks_2samp_with(&rs, &identical, KsMethod::Asymptotic, Alternative::TwoSided).unwrap();
        println!("PERF ks identical 1e7: {:?} {:?}", t.elapsed(), r.statistic);
        let t = std::time::Instant::now();
        let r = ks_2samp_with(&rs, &cs, KsMethod::Asymptotic, Alternative::TwoSided).unwrap();
        println!("PERF ks 1e7: {:?} {:?}", t.elapsed(), r);
        let t = std::time::Instant::now();
        let r = cramervonmises_2samp(&rs, &cs, CvmMethod::Asymptotic).unwrap();
        println!("PERF cvm 1e7: {:?} {:?}", t.elapsed(), r);
    }
}

#[test]
fn special_check() {
    let Ok(mut s) = std::fs::read_to_string("/tmp/spcheck/pts.txt") else { return };
    s.push_str(&std::fs::read_to_string("/tmp/spcheck/tgrid.txt").unwrap().replace("t ", "tq "));
    let mut worst: std::collections::BTreeMap<String, (f64, String, usize, usize)> = Default::default();
    for line in s.lines() {
        let p: Vec<&str> = line.split(' ').collect();
        if p.len() < 5 { continue; }
        let x: f64 = p[1].parse().unwrap();
        let df: f64 = p[2].parse().unwrap();
        let e: f64 = p[3].parse().unwrap();
        let tr: f64 = p[4].parse().unwrap();
        let got = match p[0] {
            "nsf" => norm_sf(x), "ncdf" => norm_cdf(x), "erf" => erf(x), "erfc" => erfc(x),
            "chi2" => chi2_sf(x, df), "t" | "tq" => t_sf(x, df), "lgam" => ln_gamma(x), "kv" => bessel_k(df, x),
            "smirnov" => smirnov_sf(df as i64, x), "kstwo" => kstwo_sf(df as u64, x), _ => unreachable!(),
        };
        if p[0] == "tq" && rel(got, tr) > 1e-13 { println!("TBAD x={x:e} df={df} truth={tr:e} got={got:e} scipy={e:e} rel_mine={:e} rel_scipy={:e}", rel(got,tr), rel(e,tr)); }
        for (suffix, refv) in [("", e), ("-truth", tr)] {
            let r = rel(got, refv);
            let ent = worst.entry(format!("{}{suffix}", p[0])).or_insert((0.0, String::new(), 0, 0));
            ent.3 += 1;
            if got != refv && !(got.is_nan() && refv.is_nan()) { ent.2 += 1; }
            if !(r <= ent.0) { ent.0 = r; ent.1 = format!("x={x:e} df={df} ref={refv:e} got={got:e} scipy={e:e}"); }
        }
    }
    for (k, v) in worst { println!("SPECIAL {k}: worst {:e} ({} of {} differ) {}", v.0, v.2, v.3, v.1); }
}
