#!/usr/bin/env python3
"""The HTML page in a real browser: Debian's chromium, headless.

    python3 tests/html_check.py BUILD [PAGE.html]

Without PAGE, BUILD/tests/test_export_html --write makes one: 5 intervals
of 1 s, a burst of 30000 slow minor faults in interval 2, with stacks.
Checks, each one PASS/FAIL/SKIP line:
  console     loading the page logs nothing on the console: chromium's
              --enable-logging=stderr prints every console message and
              uncaught exception as an "INFO:CONSOLE" line;
  screenshot  --screenshot's PNG is not blank (decoded here: zlib and
              PNG's row filters, no imaging library);
  heatmap     a copy of the page with a probe script appended, dumped
              with --dump-dom after it ran: the browser's own DOM has one
              heatmap column per interval, every column laid out with a
              size, and the darkest cell (the computed fill's luminance)
              in the burst's column (every column of the fixture has
              faults; a quiet column has no cells). Given a PAGE, its own numbers: as
              many columns as its heatmap says, the darkest cell in the
              column of the largest count.
  flame_zoom  (the fixture) the probe clicks the narrowest frame of the
              flame graph: it then fills the width, and frames outside
              it are hidden.
"""
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-extensions", "--hide-scrollbars"]
BURST_COLUMN = 2
INTERVALS = 5

PROBE = """
<script>
(function () {
  function luminance(colour) {
    var rgb = colour.match(/[0-9.]+/g).map(Number);
    return 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2];
  }
  var heat = document.getElementById('heat-minor'), result = {columns: 0};
  if (heat) {
    var columns = heat.querySelectorAll('g.col'), darkest = 1e9, most = -1;
    result.columns = columns.length;
    result.declared = +heat.dataset.columns;
    result.filled = result.sized = 0;
    columns.forEach(function (g) {
      var box = g.getBoundingClientRect();
      if (!g.querySelector('rect')) return;  /* no fault then: nothing drawn */
      result.filled++;
      if (box.width > 0 && box.height > 0) result.sized++;
      g.querySelectorAll('rect').forEach(function (r) {
        var l = luminance(getComputedStyle(r).fill), n = +r.dataset.count;
        if (l < darkest) { darkest = l; result.darkest = +g.dataset.col; }
        if (n > most) { most = n; result.fullest = +g.dataset.col; }
      });
    });
  }
  var flame = document.getElementById('flame');
  if (flame) {
    var narrow = null;
    flame.querySelectorAll('g.frame').forEach(function (g) {
      if (+g.dataset.d > 0 && (!narrow || +g.dataset.w < +narrow.dataset.w)) narrow = g;
    });
    narrow.dispatchEvent(new MouseEvent('click', {bubbles: true}));
    result.zoomed = +narrow.querySelector('rect').getAttribute('width');
    result.hidden = Array.prototype.filter.call(flame.querySelectorAll('g.frame'),
      function (g) { return g.style.display === 'none'; }).length;
  }
  var pre = document.createElement('pre');
  pre.id = 'html-check';
  pre.textContent = JSON.stringify(result);
  document.body.appendChild(pre);
})();
</script>
"""


def report(status, name, why=""):
    print(f"{status} html_check/{name}" + (f": {why}" if why else ""), flush=True)
    return status != "FAIL"


def browser():
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    return None


def run_browser(chromium, args, page):
    return subprocess.run([chromium, *FLAGS, *args, "file://" + os.path.abspath(page)],
                          capture_output=True, text=True, timeout=120)


def png_pixels(path):
    """(width, height, rows of RGB(A) tuples) of an 8-bit RGB or RGBA PNG."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    at, idat, width = 8, b"", 0
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        body = data[at + 8:at + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            if depth != 8 or colour not in (2, 6):
                raise ValueError(f"PNG of depth {depth}, colour type {colour}")
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        at += 12 + length
    raw, stride, rows, previous = zlib.decompress(idat), width * channels, [], None
    for y in range(height):
        line = raw[y * (stride + 1):(y + 1) * (stride + 1)]
        kind, row = line[0], bytearray(line[1:])
        up = previous or bytearray(stride)
        for i in range(stride):
            left = row[i - channels] if i >= channels else 0
            corner = up[i - channels] if i >= channels else 0
            if kind == 1:
                row[i] = (row[i] + left) & 255
            elif kind == 2:
                row[i] = (row[i] + up[i]) & 255
            elif kind == 3:
                row[i] = (row[i] + (left + up[i]) // 2) & 255
            elif kind == 4:
                p = left + up[i] - corner
                pa, pb, pc = abs(p - left), abs(p - up[i]), abs(p - corner)
                row[i] = (row[i] + (left if pa <= pb and pa <= pc
                                    else up[i] if pb <= pc else corner)) & 255
        rows.append(row)
        previous = row
    return width, height, rows, channels


def check_console(chromium, page):
    out = run_browser(chromium, ["--enable-logging=stderr", "--v=0", "--dump-dom"], page)
    console = [line for line in out.stderr.splitlines() if ":CONSOLE" in line]
    if out.returncode != 0:
        return report("FAIL", "console", f"chromium exited {out.returncode}: "
                      f"{out.stderr.strip()[-300:]}")
    if "</html>" not in out.stdout:
        return report("FAIL", "console", "the DOM dump has no </html>")
    if console:
        return report("FAIL", "console", "; ".join(console[:3]))
    return report("PASS", "console")


def check_screenshot(chromium, page, work):
    shot = os.path.join(work, "page.png")
    out = run_browser(chromium, [f"--screenshot={shot}", "--window-size=1280,1800"], page)
    if out.returncode != 0 or not os.path.exists(shot):
        return report("FAIL", "screenshot", f"no screenshot: {out.stderr.strip()[-300:]}")
    width, height, rows, channels = png_pixels(shot)
    background = bytes(rows[0][:3])
    colours, differ = set(), 0
    for row in rows[::4]:
        for x in range(0, width * channels, channels * 4):
            pixel = bytes(row[x:x + 3])
            colours.add(pixel)
            differ += pixel != background
    share = differ / (len(rows[::4]) * len(range(0, width * channels, channels * 4)))
    if len(colours) < 16 or share < 0.02:
        return report("FAIL", "screenshot", f"{width}x{height}, {len(colours)} colours, "
                      f"{share:.1%} of pixels differ from the background: blank")
    return report("PASS", "screenshot", f"{width}x{height}, {len(colours)} colours sampled, "
                  f"{share:.0%} not background")


def check_heatmap(chromium, page, work, fixture):
    with open(page, encoding="utf-8") as f:
        html = f.read()
    probed = os.path.join(work, "probed.html")
    with open(probed, "w", encoding="utf-8") as f:
        f.write(html.replace("</body>", PROBE + "</body>"))
    out = run_browser(chromium, ["--dump-dom", "--virtual-time-budget=5000",
                                 "--window-size=1280,1800"], probed)
    found = re.search(r'<pre id="html-check">(.*?)</pre>', out.stdout)
    if not found:
        return report("FAIL", "heatmap", "the probe wrote nothing: "
                      f"{out.stderr.strip()[-300:]}")
    result = json.loads(found.group(1).replace("&quot;", '"'))
    # The fixture's numbers are known; any other page is held to its own.
    columns = INTERVALS if fixture else result.get("declared")
    burst = BURST_COLUMN if fixture else result.get("fullest")
    if result.get("columns") != columns:
        return report("FAIL", "heatmap", f"{result.get('columns')} columns for "
                      f"{columns} intervals")
    if result.get("sized") != result.get("filled") or (fixture and result["sized"] != columns):
        return report("FAIL", "heatmap", f"only {result.get('sized')} of "
                      f"{result.get('filled')} columns with faults have a size")
    if result.get("darkest") != burst:
        return report("FAIL", "heatmap", f"the darkest cell is in column "
                      f"{result.get('darkest')}, the burst is in {burst}")
    report("PASS", "heatmap", f"{columns} columns, the darkest is the burst's "
           f"(column {burst})")
    if not fixture:
        return True
    # The fixture's narrowest frame, clicked, fills the graph; its cousins go.
    if abs(result.get("zoomed", 0) - 1200) > 0.5 or not result.get("hidden"):
        return report("FAIL", "flame_zoom", f"the clicked frame is {result.get('zoomed')} "
                      f"px wide, {result.get('hidden')} frames hidden")
    return report("PASS", "flame_zoom", f"the clicked frame fills the width, "
                  f"{result['hidden']} others hidden")


def main():
    if len(sys.argv) not in (2, 3):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    chromium = browser()
    if not chromium:
        for name in ("console", "screenshot", "heatmap"):
            report("SKIP", name, "no chromium on PATH (make deps installs it)")
        return 0
    with tempfile.TemporaryDirectory() as work:
        page = sys.argv[2] if len(sys.argv) == 3 else os.path.join(work, "page.html")
        if len(sys.argv) == 2:
            maker = os.path.join(sys.argv[1], "tests", "test_export_html")
            made = subprocess.run([maker, "--write", page], capture_output=True, text=True)
            if made.returncode != 0:
                report("FAIL", "page", f"{maker} --write failed: {made.stderr.strip()}")
                return 1
        ok = check_console(chromium, page)
        ok = check_screenshot(chromium, page, work) and ok
        ok = check_heatmap(chromium, page, work, len(sys.argv) == 2) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
