"""The UI's static files: sent compressed (brotli or gzip), revalidated, never re-sent unchanged."""

import gzip
import json
import re
from pathlib import Path

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


def fnv1a(data, h=0xCBF29CE484222325):
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def test_pages_name_the_ui_files_by_their_content_and_browsers_keep_them(server):
    html = requests.get(server.url + "/", timeout=30).text
    names = set(re.findall(r"/pkg/(mltrack\.([0-9a-f]{16})(?:\.js|_bg\.wasm|\.css))", html))
    versions = {v for _, v in names}
    assert len(versions) == 1, names
    (version,) = versions
    assert {n for n, _ in names} == {f"mltrack.{version}.js", f"mltrack.{version}_bg.wasm", f"mltrack.{version}.css"}
    # The version is a hash of the files themselves: new content, new names.
    plain = [requests.get(f"{server.url}/pkg/{f}", timeout=30).content for f in ["mltrack.css", "mltrack.js", "mltrack_bg.wasm"]]
    h = 0xCBF29CE484222325
    for body in plain:
        h = fnv1a(body, h)
    assert f"{h:016x}" == version
    # Named by version: kept a year without asking again; the same bytes.
    for name, body in zip([f"mltrack.{version}.css", f"mltrack.{version}.js", f"mltrack.{version}_bg.wasm"], plain):
        r = requests.get(f"{server.url}/pkg/{name}", timeout=30)
        assert r.status_code == 200 and r.content == body, name
        assert r.headers["cache-control"] == "public, max-age=31536000, immutable", name
    # A page from another build asks for its own version: it gets this
    # build's file, asked for again each time, never kept under that name.
    other = "0123456789abcdef" if version != "0123456789abcdef" else "fedcba9876543210"
    r = requests.get(f"{server.url}/pkg/mltrack.{other}.js", timeout=30)
    assert r.status_code == 200 and r.content == plain[1] and r.headers["cache-control"] == "no-cache"


def test_plotly_is_named_by_its_version_and_kept(server):
    package = json.loads((Path(__file__).parents[2] / "node_modules/plotly.js-basic-dist-min/package.json").read_text())
    r = requests.get(f"{server.url}/vendor/plotly-basic-{package['version']}.min.js", timeout=30)
    assert r.status_code == 200
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert r.content == requests.get(server.url + "/vendor/plotly.min.js", timeout=30).content
    assert requests.get(server.url + "/vendor/plotly-basic-0.0.1.min.js", timeout=30).status_code == 404
