//! The local-folder backend, on a real temporary folder.

use artifacts::{ArtifactPath, ArtifactStore};
use bytes::Bytes;
use futures::{stream, TryStreamExt};
use tracking::ErrorCode;

fn path(p: &str) -> ArtifactPath {
    ArtifactPath::parse(p).unwrap()
}

fn body(chunks: Vec<Vec<u8>>) -> impl futures::Stream<Item = Result<Bytes, std::io::Error>> + Send {
    stream::iter(chunks.into_iter().map(|c| Ok(Bytes::from(c))))
}

async fn read(store: &ArtifactStore, p: &str) -> Vec<u8> {
    let download = store.get(&path(p)).await.unwrap();
    let chunks: Vec<Bytes> = download.stream.try_collect().await.unwrap();
    let bytes = chunks.concat();
    assert_eq!(bytes.len() as u64, download.size);
    bytes
}

#[tokio::test]
async fn files_round_trip_and_list_like_mlflow() {
    let dir = tempfile::tempdir().unwrap();
    let store = ArtifactStore::open(dir.path().join("art").to_str().unwrap()).unwrap();

    // 20 MiB in uneven chunks crosses the multipart threshold.
    let big: Vec<u8> = (0..20 * 1024 * 1024u32).map(|i| (i * 7 % 251) as u8).collect();
    let chunks: Vec<Vec<u8>> = big.chunks(777_777).map(<[u8]>::to_vec).collect();
    assert_eq!(store.put(&path("1/r/artifacts/big.bin"), body(chunks)).await.unwrap(), big.len() as u64);
    store.put(&path("1/r/artifacts/model/MLmodel"), body(vec![b"flavors: {}\n".to_vec()])).await.unwrap();
    store.put(&path("1/r/artifacts/empty.txt"), body(vec![])).await.unwrap();

    assert_eq!(read(&store, "1/r/artifacts/big.bin").await, big);
    assert_eq!(read(&store, "1/r/artifacts/empty.txt").await, b"");
    // Plain files on disk, under their own names.
    assert!(dir.path().join("art/1/r/artifacts/model/MLmodel").is_file());

    let listed = store.list(&path("1/r/artifacts")).await.unwrap();
    let shown: Vec<(String, bool, Option<i64>)> = listed.into_iter().map(|f| (f.path, f.is_dir, f.file_size)).collect();
    assert_eq!(
        shown,
        vec![
            ("big.bin".into(), false, Some(big.len() as i64)),
            ("empty.txt".into(), false, Some(0)),
            ("model".into(), true, None),
        ]
    );
    assert!(store.list(&path("1/r/artifacts/big.bin")).await.unwrap().is_empty());
    assert!(store.list(&path("nowhere")).await.unwrap().is_empty());

    let (size, head) = store.read_head(&path("1/r/artifacts/big.bin"), 10).await.unwrap();
    assert_eq!((size, &head[..]), (big.len() as u64, &big[..10]));

    let missing = store.get(&path("1/r/artifacts/nope")).await.err().unwrap();
    assert_eq!(missing.error_code, ErrorCode::ResourceDoesNotExist);

    store.delete(&path("1/r/artifacts/model")).await.unwrap();
    assert!(!dir.path().join("art/1/r/artifacts/model").exists());
    store.delete(&path("1/r/artifacts/big.bin")).await.unwrap();
    let names: Vec<String> = store.list(&path("1/r/artifacts")).await.unwrap().into_iter().map(|f| f.path).collect();
    assert_eq!(names, vec!["empty.txt"]);
    store.delete(&path("1/r/artifacts/not-there")).await.unwrap();
}

#[tokio::test]
async fn a_failed_upload_leaves_the_old_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = ArtifactStore::open(dir.path().to_str().unwrap()).unwrap();
    store.put(&path("a/f.txt"), body(vec![b"old".to_vec()])).await.unwrap();
    let broken =
        stream::iter(vec![Ok(Bytes::from(vec![1u8; 9 * 1024 * 1024])), Err(std::io::Error::other("connection reset"))]);
    let err = store.put(&path("a/f.txt"), broken).await.unwrap_err();
    assert!(err.message.contains("interrupted"), "{err}");
    assert_eq!(read(&store, "a/f.txt").await, b"old");
    // No staging files left behind in the listing.
    let names: Vec<String> = store.list(&path("a")).await.unwrap().into_iter().map(|f| f.path).collect();
    assert_eq!(names, vec!["f.txt"]);
}

#[cfg(unix)]
#[tokio::test]
async fn symlinks_inside_the_root_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.txt"), b"secret").unwrap();
    let root = dir.path().join("art");
    let store = ArtifactStore::open(root.to_str().unwrap()).unwrap();
    std::fs::create_dir_all(root.join("1/r/artifacts")).unwrap();
    std::os::unix::fs::symlink(outside.path(), root.join("1/r/artifacts/link")).unwrap();

    for result in [
        store.get(&path("1/r/artifacts/link/secret.txt")).await.map(|_| ()),
        store.list(&path("1/r/artifacts/link")).await.map(|_| ()),
        store.put(&path("1/r/artifacts/link/new.txt"), body(vec![b"x".to_vec()])).await.map(|_| ()),
        store.delete(&path("1/r/artifacts/link")).await,
    ] {
        let err = result.unwrap_err();
        assert_eq!(err.error_code, ErrorCode::InvalidParameterValue);
        assert!(err.message.contains("symbolic link"), "{err}");
    }
    assert!(outside.path().join("secret.txt").exists());
    assert!(!outside.path().join("new.txt").exists());
}

#[tokio::test]
async fn multipart_uploads_join_parts_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = ArtifactStore::open(dir.path().to_str().unwrap()).unwrap();
    let target = path("2/r/artifacts/data.bin");
    let id = store.create_multipart(&target, "ann").await.unwrap();
    let parts: Vec<Vec<u8>> = (0..3u8).map(|i| vec![i; 1000 + i as usize]).collect();
    // Parts arrive out of order, as parallel uploads do.
    for n in [3u32, 1, 2] {
        let etag = store.put_part(&id, n, body(vec![parts[n as usize - 1].clone()])).await.unwrap();
        assert!(etag.contains(&id));
    }
    let wrong = store.complete_multipart(&path("2/r/artifacts/other.bin"), &id, &[1, 2, 3]).await.unwrap_err();
    assert_eq!(wrong.error_code, ErrorCode::InvalidParameterValue);
    store.complete_multipart(&target, &id, &[1, 2, 3]).await.unwrap();
    assert_eq!(read(&store, "2/r/artifacts/data.bin").await, parts.concat());
    // The parts are gone and the upload area never shows in listings.
    assert!(store.list(&ArtifactPath::root()).await.unwrap().iter().all(|f| !f.path.starts_with('.')));
    let again = store.put_part(&id, 1, body(vec![vec![0]])).await.unwrap_err();
    assert_eq!(again.error_code, ErrorCode::ResourceDoesNotExist);

    let aborted = store.create_multipart(&target, "ann").await.unwrap();
    store.put_part(&aborted, 1, body(vec![vec![9; 10]])).await.unwrap();
    store.abort_multipart(&target, &aborted).await.unwrap();
    assert_eq!(read(&store, "2/r/artifacts/data.bin").await, parts.concat());
    let bad_id = store.put_part("../../etc", 1, body(vec![vec![0]])).await.unwrap_err();
    assert_eq!(bad_id.error_code, ErrorCode::InvalidParameterValue);
}

#[tokio::test]
async fn a_write_the_file_system_refuses_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let store = ArtifactStore::open(dir.path().to_str().unwrap()).unwrap();
    store.put(&path("1/r/artifacts/a.txt"), body(vec![b"file".to_vec()])).await.unwrap();
    // A file where a folder would have to be: the OS refuses the write.
    let err = store.put(&path("1/r/artifacts/a.txt/b.txt"), body(vec![b"x".to_vec()])).await.unwrap_err();
    assert_eq!(err.error_code, ErrorCode::InternalError);
    // The client's message names the artifact; the OS's words stay in the cause.
    assert!(
        err.message.contains("a.txt/b.txt") && !err.message.contains(dir.path().to_str().unwrap()),
        "{}",
        err.message
    );
    assert!(err.cause.is_some());
    assert_eq!(read(&store, "1/r/artifacts/a.txt").await, b"file");
}
