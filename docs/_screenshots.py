"""Redraw the screenshots in docs/screenshots/ in headless Chromium (``nox -s screenshots``).

Each screenshot is a page laid out like a notebook cell: the code, then the
output a notebook shows, here the HTML repr of a care plan and of a titration
schedule with its plot. The pages are written to a temporary folder and
opened from disk; Chromium runs with the network features off. The PNGs are
committed: the docs build never needs Chromium, and ``nox -s tests`` never
runs this.

Usage: ``python docs/_screenshots.py CHROMIUM OUTDIR``
"""

from __future__ import annotations

import base64
import io
import pathlib
import subprocess
import sys
import tempfile

import matplotlib as mpl

mpl.use("Agg")
import matplotlib.image as mpimg
from matplotlib.figure import Figure

import cluneal

_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
)
_WIDTH = 980
_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>{title}</title></head>
<body style="margin:0;padding:14px 18px;background:#ffffff">
<div style="font-family:SFMono-Regular,Consolas,'Liberation Mono',Menlo,monospace;
font-size:13px;color:#1f2328;background:#f6f8fa;border:1px solid #d0d7de;border-radius:4px;
padding:6px 10px;margin-bottom:8px"><span style="color:#6e7781">In [{n}]:</span> {code}</div>
{output}
</body></html>
"""


def _older_patient_plan() -> cluneal.CarePlan:
    """The notebook's second patient: 72, CrCl about 35 mL/min, on warfarin."""
    patient = cluneal.Patient(
        age=72, sex="male", weight="154 lb", serum_creatinine="168 umol/L", medications=["warfarin"]
    )
    findings = cluneal.Findings.model_validate(
        {
            "pain": {"low_back_pain": True, "deep_aching_poorly_localized": True},
            "tender_points": [{"site": "iliac_crest", "reproduces_pain": True}],
            "block": {"branches": ["superior"], "relief_percent": 80, "relief_duration": "2 weeks"},
        }
    )
    return cluneal.care_plan(patient, findings, start_date="2026-03-02")


def _dialysis_schedule() -> cluneal.TitrationSchedule:
    patient = cluneal.Patient(
        age=60, sex="male", weight="80 kg", serum_creatinine="6 mg/dL", on_dialysis=True
    )
    return cluneal.titration_schedule("gabapentin", patient, start_date="2026-03-02")


def _plot_png(schedule: cluneal.TitrationSchedule) -> str:
    figure = Figure(figsize=(7.0, 3.6), dpi=100, layout="constrained")
    schedule.plot(ax=figure.subplots())
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _shoot(chromium: str, page: pathlib.Path, out: pathlib.Path, height: int) -> None:
    subprocess.run(  # noqa: S603 - a fixed argument list, no shell
        [
            chromium,
            *_FLAGS,
            f"--window-size={_WIDTH},{height}",
            f"--screenshot={out}",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    _crop_white_bottom(out)


def _crop_white_bottom(path: pathlib.Path) -> None:
    """Cut the empty page below the content (the window is taller than the page)."""
    pixels = mpimg.imread(path)
    rows = (pixels[:, :, :3] < 0.99).any(axis=(1, 2))
    last = int(rows.nonzero()[0].max()) if rows.any() else pixels.shape[0] - 1
    mpimg.imsave(path, pixels[: min(pixels.shape[0], last + 16)], format="png")


def main(chromium: str, outdir: pathlib.Path) -> None:
    """Write ``care_plan.png`` and ``schedule.png`` into ``outdir``."""
    outdir.mkdir(parents=True, exist_ok=True)
    plan = _older_patient_plan()
    schedule = _dialysis_schedule()
    pages = {
        "care_plan": (
            "plan",
            plan._repr_html_() or "",
            2000,  # the top of the page: safety statement, patient, renal calculator, diagnosis
        ),
        "schedule": (
            "schedule; schedule.plot()",
            (schedule._repr_html_() or "")
            + '<img style="display:block;margin-top:10px" alt="schedule plot" '
            f'src="data:image/png;base64,{_plot_png(schedule)}">',
            2400,
        ),
    }
    with tempfile.TemporaryDirectory() as tmp:
        for n, (name, (code, output, height)) in enumerate(pages.items(), start=1):
            page = pathlib.Path(tmp) / f"{name}.html"
            page.write_text(
                _PAGE.format(title=name, n=n, code=code, output=output), encoding="utf-8"
            )
            _shoot(chromium, page, outdir / f"{name}.png", height)
            print(f"wrote {outdir / name}.png")


if __name__ == "__main__":
    main(sys.argv[1], pathlib.Path(sys.argv[2]))
