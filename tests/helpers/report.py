"""Reading and rendering a Snakemake HTML report (snakemake --report): its embedded results
and categories, and what headless Chromium shows of it."""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

# Shows every image result of the report in turn through the report's own app (app.setView, as
# its buttons do), counts those the browser decoded, writes the count into the title and leaves
# the summary figure on screen.
HARNESS = """
<script>
window.addEventListener("load", async () => {
  const wait = ms => new Promise(done => setTimeout(done, ms));
  // the report's React app assigns the global `app` when it first renders, after load
  while (typeof app === "undefined" || !app) await wait(100);
  const images = Object.keys(results).filter(p => results[p].mime_type.startsWith("image/"));
  let rendered = 0;
  for (const path of images) {
    app.setView({content: "img", contentPath: results[path].data_uri, resultPath: path});
    await wait(300);
    const shown = [...document.querySelectorAll("img")].find(
      img => img.src === results[path].data_uri);
    if (shown && shown.complete && shown.naturalWidth > 0) rendered++;
  }
  document.title = `rendered ${rendered} of ${images.length}`;
  const summary = images.find(p => p.endsWith("summary.png"));
  app.setView({content: "img", contentPath: results[summary].data_uri, resultPath: summary});
});
</script>
"""


def embedded(report: Path, name: str) -> dict:
    """A JavaScript object the report embeds (``results``, ``categories``), as a dict."""
    match = re.search(rf"var {name} = (\{{.*?\}});\n", report.read_text(encoding="utf-8"), re.S)
    assert match, f"{report} embeds no {name}"
    return json.loads(match.group(1))


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    return None


def render(report: Path, out: Path) -> tuple[str, Path]:
    """Open ``report`` in headless Chromium with :data:`HARNESS`: the page title it ends with
    ("rendered N of M") and a screenshot of the summary figure shown in the report."""
    page = out / "report_rendered.html"
    page.write_text(report.read_text(encoding="utf-8") + HARNESS, encoding="utf-8")
    command = [chromium(), "--headless", "--no-sandbox", "--disable-gpu",
               "--virtual-time-budget=60000", "--window-size=1400,1000"]
    env = {**os.environ, "HOME": str(out)}  # Chromium writes its profile under HOME
    dom = subprocess.run([*command, "--dump-dom", page.as_uri()], capture_output=True,
                         text=True, timeout=300, env=env).stdout
    title = re.search(r"<title>(.*?)</title>", dom, re.S)
    screenshot = out / "report.png"
    subprocess.run([*command, f"--screenshot={screenshot}", page.as_uri()],
                   capture_output=True, timeout=300, env=env, check=True)
    return (title.group(1) if title else ""), screenshot
