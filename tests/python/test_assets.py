"""The UI's static files: sent compressed (brotli or gzip), revalidated, never re-sent unchanged."""

import gzip

import brotli
import requests


def raw(server, path, **headers):
    """The answer's bytes as sent (not decoded by requests)."""
    r = requests.get(server.url + path, headers=headers, stream=True, timeout=30)
    return r, r.raw.read(decode_content=False)


def test_assets_go_out_compressed_to_browsers_that_take_it(server):
    for path, magic in [("/pkg/mltrack_bg.wasm", b"\0asm"), ("/vendor/plotly.min.js", b"/**"), ("/pkg/mltrack.js", b"")]:
        # Brotli where the browser takes it (every current one does), the smallest.
        packed, sent = raw(server, path, **{"Accept-Encoding": "gzip, deflate, br"})
        assert packed.status_code == 200, path
        assert packed.headers["content-encoding"] == "br", path
        assert "accept-encoding" in packed.headers["vary"].lower()
        body = brotli.decompress(sent)
        assert body.startswith(magic), path
        # gzip for a client that takes only that.
        zipped, zsent = raw(server, path, **{"Accept-Encoding": "gzip"})
        assert zipped.headers["content-encoding"] == "gzip", path
        assert gzip.decompress(zsent) == body, path
        assert len(sent) < len(zsent) < 0.6 * len(body), (path, len(sent), len(zsent), len(body))
        # A client that takes neither (or refuses both) gets the same file as it is.
        for refusal in ["identity", "gzip;q=0, br;q=0, identity", "deflate"]:
            plain, bytes_ = raw(server, path, **{"Accept-Encoding": refusal})
            assert plain.status_code == 200 and "content-encoding" not in plain.headers, (path, refusal)
            assert bytes_ == body, (path, refusal)
            assert plain.headers["etag"] == packed.headers["etag"] == zipped.headers["etag"]


def test_a_repeat_visit_revalidates_and_gets_nothing_again(server):
    first = requests.get(server.url + "/vendor/plotly.min.js", timeout=30)
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "no-cache" and etag.startswith('"')
    again = requests.get(server.url + "/vendor/plotly.min.js", headers={"If-None-Match": etag}, timeout=30)
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    weak = requests.get(server.url + "/vendor/plotly.min.js", headers={"If-None-Match": f'"x", W/{etag}'}, timeout=30)
    assert weak.status_code == 304
    stale = requests.get(server.url + "/vendor/plotly.min.js", headers={"If-None-Match": '"0000000000000000"'}, timeout=30)
    assert stale.status_code == 200 and stale.content == first.content
    # Different files, different tags.
    wasm = requests.get(server.url + "/pkg/mltrack_bg.wasm", timeout=30)
    assert wasm.headers["etag"] != etag


def test_an_unknown_asset_is_not_found(server):
    assert requests.get(server.url + "/pkg/nothing.js", timeout=30).status_code == 404
