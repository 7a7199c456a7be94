"""One photo through every step of the pipeline, for ``notebooks/00_explore.ipynb``.

:class:`Explorer` holds the models (face extraction, the generator, the identity recognizer, the FER2013 reference)
and walks a photo: detections with their scores, the aligned crop, the head mask, the landmark image, then ours and
every baseline, each captioned with its identity distance to the original, the reference's top emotion and the
landmark NME. It caches each step by the settings it depends on, so a control reruns only what it changes.
:func:`gallery` reads the identity evaluation's per-image table; :func:`paper_tables` the tables of the last
``dvc repro``. The widgets live in :func:`explore_ui`; the figures are matplotlib objects.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from ganonlib.config import Params, PreprocessConfig, load_params

__all__ = ["ExploreSettings", "Explorer", "Panel", "Walkthrough", "candidate_photos", "emotion_figure", "explore_ui",
           "gallery", "imported_outputs", "paper_tables", "panels_figure", "read_candidate"]


@dataclass(frozen=True)
class ExploreSettings:
    """What the controls change: extraction (margin, landmark style), paste-back (feather, blend), the generator
    file, and what a photo without a face gets."""

    margin: float = 0.0
    landmarks_style: str = "cross"
    feather: float = 0.06
    blend: str = "feather"
    no_face: str = "average"
    weights: str = "models/gan/generator.pt"


@dataclass
class Panel:
    title: str
    image: np.ndarray
    caption: str = ""


@dataclass
class Walkthrough:
    panels: list[Panel]
    emotions: pd.DataFrame  # rows: original and each method; columns: the 7 FER classes
    faces_found: int


def candidate_photos(root: str | Path = ".", limit: int = 60) -> dict[str, str]:
    """Photos to pick from, by label: the bundled public-domain photos (always there), the sample's images, then each
    processed dataset's test split (its original photos). Read one with :func:`read_candidate`."""
    from ganonlib.data.sample import PHOTOS

    root = Path(root)
    found: dict[str, str] = {f"bundled / {name}": f"bundled:{name}" for name in PHOTOS}
    for path in sorted((root / "data" / "sample" / "images").glob("*.png"))[:limit]:
        found[f"sample / {path.name}"] = str(path)
    for index in sorted((root / "data" / "processed").glob("*/index.csv")):
        table = pd.read_csv(index, keep_default_na=False)
        for row in table[table.split == "test"].head(limit).itertuples():
            if row.source and Path(row.source).is_file():
                found.setdefault(f"{index.parent.name} test / {Path(row.source).name}", str(row.source))
    return found


def read_candidate(value: str | Path) -> np.ndarray:
    """A photo of :func:`candidate_photos` (or any path): (H, W, 3) uint8 RGB."""
    from ganonlib.data.sample import load_photo
    from ganonlib.io import read_image

    value = str(value)
    return load_photo(value.removeprefix("bundled:")) if value.startswith("bundled:") else read_image(value)


class Explorer:
    """The models, loaded once; :meth:`walk` is cached per photo and settings."""

    def __init__(self, params: Params) -> None:
        from ganonlib.metrics.emotion_reference import ReferenceEmotionClassifier
        from ganonlib.metrics.identity import Recognizer

        self.preprocess: PreprocessConfig = replace(params.preprocess, max_faces=0, n_jobs=1)
        self.baselines = list(params.anonymize.baselines)
        self.recognizer = Recognizer(params.eval_identity.recognizer)
        self.reference = ReferenceEmotionClassifier()
        self._extractors: dict = {}
        self._generators: dict = {}
        self._faces: dict = {}

    def _extractor(self, settings: ExploreSettings, image_size: int):
        from ganonlib.faces.extract import FaceExtractor

        key = (settings.margin, settings.landmarks_style, image_size)
        if key not in self._extractors:
            cfg = replace(self.preprocess, margin=settings.margin, landmarks_style=settings.landmarks_style,
                          image_size=image_size)
            self._extractors[key] = FaceExtractor(cfg)
        return self._extractors[key]

    def generator_style(self, weights: str = "models/gan/generator.pt") -> str:
        """The landmark style the generator file records (what it was trained on)."""
        try:
            return self._generator(weights).landmarks_style
        except (FileNotFoundError, ValueError):
            return self.preprocess.landmarks_style

    def _generator(self, weights: str):
        from ganonlib.anonymize.generator import Anonymizer
        from ganonlib.config import AnonymizeConfig

        if weights not in self._generators:
            self._generators[weights] = Anonymizer(AnonymizeConfig(weights=weights, second_detector="none"),
                                                   follow_generator=True)
        return self._generators[weights]

    def _faces_of(self, photo: np.ndarray, settings: ExploreSettings, image_size: int) -> list:
        key = (hashlib.sha1(photo.tobytes()).hexdigest(), settings.margin, settings.landmarks_style, image_size)
        if key not in self._faces:
            self._faces[key] = self._extractor(settings, image_size)(photo)
        return self._faces[key]

    def walk(self, photo: np.ndarray, settings: ExploreSettings = ExploreSettings(),
             imported: dict[str, np.ndarray] | None = None) -> Walkthrough:
        """Every step for the best-scoring face of ``photo`` (H, W, 3) uint8 RGB; ``imported``: other tools' outputs
        for this face (:func:`imported_outputs`), shown and measured like the baselines."""
        from ganonlib.anonymize.baselines import BASELINES
        from ganonlib.anonymize.paste import face_mask, paste_back
        from ganonlib.weights import WeightsError

        try:
            anonymizer = self._generator(settings.weights)
            image_size, missing = anonymizer.image_size, ""
        except (FileNotFoundError, WeightsError) as err:  # no generator yet: every step but ours still shows
            anonymizer, image_size, missing = None, self.preprocess.image_size, str(err)
        # the style the user picks, even one the generator was not trained on: seeing what that does is the point
        faces = self._faces_of(photo, settings, image_size)
        boxes = _draw_detections(photo, [f.detection for f in faces])
        panels = [Panel("photo", boxes, f"{len(faces)} face(s): " + ", ".join(
            f"{f.detection.score:.2f}" for f in faces) if faces else "no face found")]
        usable = [f for f in faces if f.ok]
        if not usable:
            if settings.no_face == "average" and anonymizer is not None:
                average = anonymizer.average_face()
                panels.append(Panel("average face", average, "no face: the paper's average face (policy average)"))
            else:
                panels.append(Panel(f"policy {settings.no_face}", photo, "no face found: nothing generated"))
            return Walkthrough(panels, pd.DataFrame(), len(faces))
        face = max(usable, key=lambda f: f.detection.score)
        original = face.face if face.face is not None else face.aligned.image
        mask = _head_mask(face, self.preprocess.segmentation)
        panels += [Panel("aligned crop", face.aligned.image), Panel("head mask", mask),
                   Panel("landmarks", np.repeat(face.landmarks[..., None], 3, axis=2))]
        methods = {name: BASELINES[name](original) for name in self.baselines if name in BASELINES}
        if anonymizer is not None:
            methods = {"ours": anonymizer.generate(face.landmarks[None])[0], **methods}
        methods.update(imported or {})
        reference = self._describe(original, face.points)
        panels[1].caption = f"emotion {reference['emotion']} {reference['p']:.2f}"
        if anonymizer is None:
            panels.append(Panel("ours", np.zeros_like(original), _wrapped(missing)))
        rows = {"original": reference["probs"]}
        for name, image in methods.items():
            seen = self._describe(image, face.points, reference["embedding"])
            rows[name] = seen["probs"]
            panels.append(Panel(name, image, f"id dist {seen['distance']:.3f} | {seen['emotion']} {seen['p']:.2f} | "
                                             f"NME {seen['nme']}"))
        if anonymizer is not None:
            mask = face_mask(face.points, face.aligned, settings.feather)
            pasted = paste_back(photo, methods["ours"], face.aligned, mask, blend=settings.blend)
            panels.append(Panel("ours pasted back", pasted, f"blend {settings.blend}, feather {settings.feather}"))
        from ganonlib.metrics.emotion_reference import FER_CLASSES

        return Walkthrough(panels, pd.DataFrame(rows, index=list(FER_CLASSES)).T, len(faces))

    def _describe(self, image: np.ndarray, points: np.ndarray | None, against: np.ndarray | None = None) -> dict:
        from ganonlib.faces.landmarks import FaceMesher
        from ganonlib.metrics.emotion_reference import FER_CLASSES
        from ganonlib.metrics.identity import cosine_distances
        from ganonlib.metrics.landmarks import normalized_mean_error

        embedding = self.recognizer.embed([image])
        probs = self.reference.predict([image])[0]
        mesh = FaceMesher()(image)
        nme = f"{normalized_mean_error(points, mesh):.3f}" if mesh is not None and points is not None else "no mesh"
        top = int(np.argmax(probs))
        return {"embedding": embedding, "probs": probs, "emotion": FER_CLASSES[top], "p": float(probs[top]),
                "distance": float(np.ravel(cosine_distances(against, embedding))[0]) if against is not None else 0.0,
                "nme": nme}


def imported_outputs(photo: str | Path, root: str | Path = ".") -> dict[str, np.ndarray]:
    """For a photo of a processed dataset: the outputs other tools produced for its first face, where imported
    (``data/anonymized/<dataset>/<method>/``, a provided ``summary.json``). Empty for any other photo."""
    from ganonlib.io import read_image
    from ganonlib.methods import METHODS

    if str(photo).startswith("bundled:"):
        return {}
    root, photo = Path(root), Path(photo).resolve()
    found: dict[str, np.ndarray] = {}
    for index in sorted((root / "data" / "processed").glob("*/index.csv")):
        table = pd.read_csv(index, keep_default_na=False)
        keys = [k for k, s in zip(table.key, table.source) if s and Path(s).resolve() == photo]
        for method in (m for m in METHODS.values() if m.kind == "external"):
            folder = root / "data" / "anonymized" / index.parent.name / method.name
            summary = folder / "summary.json"
            if not keys or not summary.is_file() or not json.loads(summary.read_text()).get("provided"):
                continue
            outputs = pd.read_csv(folder / "index.csv", keep_default_na=False).set_index("key")
            if keys[0] in outputs.index:
                found[method.name] = read_image(folder / outputs.image[keys[0]])
    return found


def _wrapped(text: str, width: int = 40) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width)[:6])


def _draw_detections(photo: np.ndarray, detections: list) -> np.ndarray:
    import cv2

    out = photo.copy()
    thick = max(2, round(max(photo.shape[:2]) / 300))
    for det in detections:
        x0, y0, x1, y1 = (int(round(v)) for v in det.box)
        cv2.rectangle(out, (x0, y0), (x1, y1), (255, 64, 64), thick)
        cv2.putText(out, f"{det.score:.2f}", (x0, max(12, y0 - 4)), cv2.FONT_HERSHEY_SIMPLEX,
                    0.4 * thick, (255, 64, 64), thick)
    return out


def _head_mask(face, segmentation: str) -> np.ndarray:
    from ganonlib.faces.segment import head_region

    size = face.aligned.image.shape[0]
    if face.face is not None and segmentation != "none":
        mask = (face.face.max(axis=2) > 0).astype(np.uint8) * 255
    else:
        mask = head_region(face.points, (size, size)).astype(np.uint8) * 255
    return np.repeat(mask[..., None], 3, axis=2)


def panels_figure(walk: Walkthrough, width: float = 2.4):
    """One row of panels, each titled and captioned: a matplotlib Figure (shown inline in a notebook)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width * len(walk.panels), width * 1.35))
    for k, panel in enumerate(walk.panels):
        ax = fig.add_subplot(1, len(walk.panels), k + 1)
        ax.imshow(panel.image)
        ax.set_title(panel.title, fontsize=9)
        ax.set_xlabel(panel.caption, fontsize=7, wrap=True)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return fig


def emotion_figure(walk: Walkthrough):
    """The 7 FER probabilities, the original against each method: a grouped bar chart."""
    import seaborn as sns
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 3))
    ax = fig.add_subplot(1, 1, 1)
    if walk.emotions.empty:
        ax.text(0.5, 0.5, "no face: no emotions", ha="center")
        return fig
    long = walk.emotions.rename_axis("method").reset_index().melt("method", var_name="emotion", value_name="p")
    sns.barplot(long, x="emotion", y="p", hue="method", ax=ax)
    ax.set_ylim(0, 1)
    ax.legend(fontsize=7, ncols=4)
    fig.tight_layout()
    return fig


def gallery(root: str | Path = ".", method: str = "ours", n: int = 12) -> pd.DataFrame:
    """The ``n`` anonymized faces of the last identity evaluation closest to their originals (the least anonymized
    first), with their image paths: where to look for failures."""
    root = Path(root)
    per_image = root / "reports" / "identity" / "per_image.csv"
    if not per_image.is_file():
        return pd.DataFrame(columns=["key", "cosine_distance", "original", "anonymized"])
    table = pd.read_csv(per_image, keep_default_na=False)
    table = table[table.method == method].sort_values("cosine_distance").head(n)
    params = load_params(root / "params.yaml")
    dataset = params.eval_identity.dataset
    index = pd.read_csv(root / "data" / "anonymized" / dataset / method / "index.csv", keep_default_na=False)
    index = index.set_index("key")
    table = table[table.key.isin(index.index)]
    return pd.DataFrame({"key": table.key.values, "cosine_distance": table.cosine_distance.values,
                         "original": [str(root / index.original[k]) for k in table.key],
                         "anonymized": [str(root / "data" / "anonymized" / dataset / method / index.image[k])
                                        for k in table.key]})


def gallery_figure(rows: pd.DataFrame, width: float = 1.6):
    from matplotlib.figure import Figure

    from ganonlib.io import read_image

    fig = Figure(figsize=(width * max(len(rows), 1), width * 2.3))
    for k, row in enumerate(rows.itertuples()):
        for r, path in enumerate((row.original, row.anonymized)):
            ax = fig.add_subplot(2, max(len(rows), 1), r * len(rows) + k + 1)
            ax.imshow(read_image(path))
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 1:
                ax.set_xlabel(f"{row.cosine_distance:.3f}", fontsize=7)
    fig.tight_layout()
    return fig


def paper_tables(root: str | Path = ".") -> dict[str, pd.DataFrame]:
    """The paper tables of the last ``dvc repro`` (kit beside paper), by name, as DataFrames."""
    tables = {}
    for path in sorted((Path(root) / "reports" / "tables").glob("paper_table*.md")):
        lines = [line for line in path.read_text().splitlines() if line.startswith("|")]
        if len(lines) < 3:
            continue
        cells = [[c.strip() for c in line.strip("|").split("|")] for line in lines]
        tables[path.stem] = pd.DataFrame(cells[2:], columns=cells[0])
    return tables


def explore_ui(explorer: Explorer, photos: dict[str, str], root: str | Path = "."):
    """The controls and outputs: pick or upload a photo, change a setting, see the panels, the emotions, the
    gallery and the tables. Returns the widget (display it) and a function that reruns the panels."""
    import io

    import ipywidgets as w
    from IPython.display import display
    from PIL import Image

    from ganonlib.config import BLENDS, LANDMARK_STYLES, NO_FACE_POLICIES

    photo = w.Dropdown(options=list(photos), description="photo", layout=w.Layout(width="420px"))
    upload = w.FileUpload(accept="image/*", multiple=False, description="upload")
    margin = w.FloatSlider(0.0, min=0.0, max=0.5, step=0.05, description="margin")
    feather = w.FloatSlider(0.06, min=0.0, max=0.2, step=0.01, description="feather")
    blend = w.Dropdown(options=BLENDS, description="blend")
    style = w.Dropdown(options=LANDMARK_STYLES, value=explorer.generator_style(), description="landmarks")
    no_face = w.Dropdown(options=NO_FACE_POLICIES, description="no face")
    weights = w.Text("models/gan/generator.pt", description="weights")
    panels_out, bars_out, gallery_out, tables_out = w.Output(), w.Output(), w.Output(), w.Output()
    state: dict = {"uploaded": None}

    def current_photo() -> np.ndarray:
        if state["uploaded"] is not None:
            return state["uploaded"]
        return read_candidate(photos[photo.value])

    def rerun(*_) -> None:
        settings = ExploreSettings(margin=margin.value, landmarks_style=style.value, feather=feather.value,
                                   blend=blend.value, no_face=no_face.value, weights=weights.value)
        with panels_out:
            panels_out.clear_output(wait=True)
            try:
                imported = {} if state["uploaded"] is not None else imported_outputs(photos[photo.value], root)
                walk = explorer.walk(current_photo(), settings, imported)
            except (FileNotFoundError, ValueError) as err:  # a weights file that is not there: said, not raised
                print(f"cannot run: {err}")
                return
            display(panels_figure(walk))
        with bars_out:
            bars_out.clear_output(wait=True)
            display(emotion_figure(walk))

    def uploaded(change) -> None:
        files = change["new"]
        if files:
            content = files[0]["content"] if isinstance(files, (list, tuple)) else next(iter(files.values()))["content"]
            state["uploaded"] = np.asarray(Image.open(io.BytesIO(bytes(content))).convert("RGB"))
            rerun()

    def picked(*_) -> None:
        state["uploaded"] = None
        rerun()

    photo.observe(picked, "value")
    upload.observe(uploaded, "value")
    for control in (margin, feather, blend, style, no_face):
        control.observe(rerun, "value")
    weights.on_submit(rerun)

    with gallery_out:
        rows = gallery(root)
        if len(rows):
            print("closest to their originals first (identity distance under each):")
            display(gallery_figure(rows))
        else:
            print("no identity evaluation yet: run `dvc repro` for the gallery")
    sort_by = w.Dropdown(description="sort by")
    tables = paper_tables(root)
    which = w.Dropdown(options=list(tables), description="table")

    def show_table(*_) -> None:
        with tables_out:
            tables_out.clear_output(wait=True)
            if not tables:
                print("no tables yet: run `dvc repro`")
                return
            table = tables[which.value]
            if sort_by.value in table.columns:
                table = table.sort_values(sort_by.value, kind="stable")
            display(table)

    def table_changed(*_) -> None:
        sort_by.options = ["", *tables[which.value].columns] if tables else [""]
        show_table()

    which.observe(table_changed, "value")
    sort_by.observe(show_table, "value")
    table_changed()
    rerun()
    controls = w.VBox([w.HBox([photo, upload]), w.HBox([margin, feather, blend]),
                       w.HBox([style, no_face, weights])])
    ui = w.VBox([controls, panels_out, bars_out, w.HTML("<b>Gallery</b>"), gallery_out,
                 w.HTML("<b>Paper tables (kit beside paper)</b>"), w.HBox([which, sort_by]), tables_out])
    return ui, rerun
