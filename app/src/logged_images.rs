//! Images a run logged with `mlflow.log_image(image, key=..., step=...)`:
//! MLflow's client writes each as `images/<key>+step+<step>+timestamp+<ms>+<uuid>.png`
//! (a `/` in the key becomes `~`; clients before 3.x used `%` for `+`),
//! with a smaller `…+compressed.webp` beside it.

use serde::{Deserialize, Serialize};

/// One logged image of a key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoggedImage {
    pub step: i64,
    pub timestamp: i64,
    /// The full image's path in the run's artifacts.
    pub path: String,
    /// The compressed copy's path, when there is one.
    pub thumbnail: Option<String>,
}

/// A run's images of one key, by step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunImages {
    pub run_id: String,
    pub images: Vec<LoggedImage>,
}

/// What a file name under `images/` says: (key, step, timestamp, id, compressed).
fn parse_name(name: &str) -> Option<(String, i64, i64, &str, bool)> {
    let delimiter = if name.contains("+step+") { '+' } else { '%' };
    let parts: Vec<&str> = name.split(delimiter).collect();
    let (key, marker, step, stamp, rest) = (parts.first()?, parts.get(1)?, parts.get(2)?, parts.get(3)?, &parts[4..]);
    if *marker != "step" || *stamp != "timestamp" || rest.len() < 2 {
        return None;
    }
    let step = step.parse().ok()?;
    let timestamp = rest[0].parse().ok()?;
    match rest[1..] {
        [id] => Some((key.replace('~', "/"), step, timestamp, id.strip_suffix(".png")?, false)),
        [id, "compressed.webp"] => Some((key.replace('~', "/"), step, timestamp, id, true)),
        _ => None,
    }
}

/// The images of `key` among the file names of a run's `images/` folder,
/// by step (the latest timestamp first when a step has several).
pub fn images_of(key: &str, names: &[String]) -> Vec<LoggedImage> {
    let mut full = Vec::new();
    let mut thumbs = std::collections::HashMap::new();
    for name in names {
        let Some((k, step, timestamp, id, compressed)) = parse_name(name) else { continue };
        if k != key {
            continue;
        }
        if compressed {
            thumbs.insert(id.to_string(), format!("images/{name}"));
        } else {
            full.push((
                id.to_string(),
                LoggedImage { step, timestamp, path: format!("images/{name}"), thumbnail: None },
            ));
        }
    }
    let mut images: Vec<LoggedImage> =
        full.into_iter().map(|(id, img)| LoggedImage { thumbnail: thumbs.remove(&id), ..img }).collect();
    images.sort_by_key(|i| (i.step, std::cmp::Reverse(i.timestamp)));
    images
}

/// Every step any run has an image at, in order.
pub fn all_steps(runs: &[RunImages]) -> Vec<i64> {
    let mut steps: Vec<i64> = runs.iter().flat_map(|r| r.images.iter().map(|i| i.step)).collect();
    steps.sort_unstable();
    steps.dedup();
    steps
}

/// The image a run shows at `step`: its latest at or before it (a run
/// that logs every 10 steps still shows one in between).
pub fn at_step(images: &[LoggedImage], step: i64) -> Option<&LoggedImage> {
    let end = images.partition_point(|i| i.step <= step);
    let last_step = images.get(end.checked_sub(1)?)?.step;
    images[..end].iter().find(|i| i.step == last_step)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn reads_mlflow_image_names_old_and_new() {
        let files = names(&[
            "samples+step+0+timestamp+100+aaa.png",
            "samples+step+0+timestamp+100+aaa+compressed.webp",
            "samples+step+10+timestamp+200+bbb.png",
            "gen~faces+step+10+timestamp+200+ccc.png",
            "samples%step%5%timestamp%150%ddd.png",
            "notes.txt",
            "samples+step+x+timestamp+1+eee.png",
        ]);
        let got = images_of("samples", &files);
        assert_eq!(got.iter().map(|i| i.step).collect::<Vec<_>>(), [0, 5, 10]);
        assert_eq!(got[0].thumbnail.as_deref(), Some("images/samples+step+0+timestamp+100+aaa+compressed.webp"));
        assert_eq!(got[2].thumbnail, None);
        assert_eq!(images_of("gen/faces", &files)[0].path, "images/gen~faces+step+10+timestamp+200+ccc.png");
    }

    #[test]
    fn a_step_shows_the_latest_image_at_or_before_it() {
        let img = |step, ts| LoggedImage { step, timestamp: ts, path: format!("{step}-{ts}"), thumbnail: None };
        let images = vec![img(0, 1), img(10, 9), img(10, 5), img(20, 3)];
        assert_eq!(at_step(&images, 15).unwrap().path, "10-9");
        assert_eq!(at_step(&images, 10).unwrap().path, "10-9");
        assert_eq!(at_step(&images, -1), None);
        let runs =
            vec![RunImages { run_id: "a".into(), images }, RunImages { run_id: "b".into(), images: vec![img(5, 1)] }];
        assert_eq!(all_steps(&runs), [0, 5, 10, 20]);
    }
}
