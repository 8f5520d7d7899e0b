//! `mltrack import` and `mltrack export`: the command-line side (progress,
//! summary, `--watch` polling, exit codes) of the `importer` crate.

use crate::config::{ExportConfig, ImportConfig};
use anyhow::Context;
use importer::progress::Ticker;
use importer::{Importer, Options};
use std::time::{Duration, Instant};

/// Runs an import; returns the process exit code: 0 when everything came
/// over, 1 when something was left out because of an error.
pub async fn import(config: ImportConfig) -> anyhow::Result<i32> {
    let source = importer::open_source(&config.from, config.source_artifacts.clone())
        .await
        .with_context(|| format!("cannot import from {}", config.from))?;
    let store = config.storage.open_store().await?;
    let artifacts = config.storage.open_artifacts()?;
    eprintln!("importing from {}", source.describe());
    let options = Options {
        experiments: config.experiments.clone(),
        dry_run: config.dry_run,
        on_conflict: config.on_conflict,
        skip_deleted: config.skip_deleted,
        artifact_root: config.storage.artifact_root(),
    };
    let importer = Importer::new(source, store, artifacts, options);
    if !config.watch {
        let started = Instant::now();
        let report = {
            let _ticker = Ticker::start(importer.progress.clone(), config.quiet);
            importer.run().await?
        };
        if config.dry_run {
            for line in &report.plan {
                println!("{line}");
            }
        }
        print!("{}", report.summary(config.dry_run));
        println!("took {:.1} s", started.elapsed().as_secs_f64());
        return Ok(if report.problems.is_empty() { 0 } else { 1 });
    }
    watch(&importer, &config).await
}

/// Mirrors until Ctrl-C: a pass, a line about it, a pause.
async fn watch(importer: &Importer, config: &ImportConfig) -> anyhow::Result<i32> {
    let interval = Duration::from_secs_f64(config.interval.max(0.1));
    // Listened to once, before the first pass: a Ctrl-C that arrives while a
    // pass runs is kept and ends the watch after it (a listener made anew
    // for each pause would miss it).
    let mut stop = std::pin::pin!(tokio::signal::ctrl_c());
    let mut pass = 0u64;
    loop {
        pass += 1;
        let started = Instant::now();
        let report = importer.run().await;
        let took = started.elapsed().as_secs_f64();
        let failing = match report {
            Ok(report) => {
                let changed = report.runs_new + report.runs_updated;
                let lag = match report.newest_point {
                    Some(ts) if report.points > 0 => {
                        format!(", newest point {:.1} s old", (store::now_millis() - ts).max(0) as f64 / 1000.0)
                    }
                    _ => String::new(),
                };
                println!(
                    "pass {pass}: {changed} runs changed ({} new), {} points, {} artifact files in {took:.2} s{lag}; \
                     lag at most {:.1} s",
                    report.runs_new,
                    report.points,
                    report.artifact_files,
                    took + interval.as_secs_f64()
                );
                for problem in &report.problems {
                    println!("  - {problem}");
                }
                !report.problems.is_empty()
            }
            Err(e) => {
                println!("pass {pass}: {e:#} (retrying)");
                true
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = &mut stop => {
                println!("stopped after {pass} passes");
                return Ok(if failing { 1 } else { 0 });
            }
        }
    }
}

/// Writes mltrack's data to one file.
pub async fn export(config: ExportConfig) -> anyhow::Result<()> {
    let store = config.storage.open_store().await?;
    let artifacts = config.storage.open_artifacts()?;
    let id = config.storage.backend_store_uri.clone();
    let source = std::sync::Arc::new(importer::store_source::StoreSource::new(store, artifacts, id));
    let started = Instant::now();
    let report = importer::archive::export(source, &config.to, config.experiments.clone()).await?;
    println!(
        "exported {} experiments, {} runs, {} metric points, {} logged models, {} registered models, \
         {} dashboards, {} artifact files ({} bytes) to {} in {:.1} s",
        report.experiments,
        report.runs,
        report.points,
        report.logged_models,
        report.registered_models,
        report.dashboards,
        report.artifact_files,
        report.artifact_bytes,
        config.to.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
