"""Local fixtures for the data tests: an isolated cache and real media files written with PyAV/Pillow
directly (not through labkit), so reading is checked against an independent writer."""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path, monkeypatch) -> Path:
    """Every data test caches into its own tmp folder, never <repo>/data/cache."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("LABKIT_CACHE", str(cache))
    return cache


class Media:
    """Writers of real media files, reached through the `media` fixture (with
    --import-mode=importlib a conftest cannot be imported by name)."""

    @staticmethod
    def encode(path: Path, clip: np.ndarray, codec: str = "libx264", fps: int = 10, pts_ms=None,
               audio_s: float = 0.0) -> Path:
        """Write uint8 (T, H, W, 3) with PyAV's encoder: libx264 (mp4/mov/mkv), mpeg4 (avi), ffv1 (mkv),
        libvpx-vp9 (webm). pts_ms: each frame's timestamp in ms (a variable frame rate); audio_s: also
        a silent audio track that long (aac, or opus in webm), which may outlast the video."""
        path.parent.mkdir(parents=True, exist_ok=True)
        with av.open(str(path), "w") as out:
            stream = out.add_stream(codec, rate=fps, options={"crf": "10"} if codec == "libx264" else {})
            stream.width, stream.height = clip.shape[2], clip.shape[1]
            stream.pix_fmt = "yuv444p" if codec == "ffv1" else "yuv420p"
            if codec == "mpeg4":
                stream.bit_rate = 8_000_000
            if pts_ms is not None:
                stream.time_base = Fraction(1, 1000)
            audio = out.add_stream("libopus" if path.suffix == ".webm" else "aac", rate=48000) if audio_s else None
            if audio is not None:
                audio.layout = "mono"
            for t, frame in enumerate(clip):
                video_frame = av.VideoFrame.from_ndarray(frame, format="rgb24")
                if pts_ms is not None:
                    video_frame.pts, video_frame.time_base = int(pts_ms[t]), Fraction(1, 1000)
                out.mux(stream.encode(video_frame))
            out.mux(stream.encode())
            if audio is not None:
                Media._silence(out, audio, audio_s)
        return path

    @staticmethod
    def _silence(out, audio, seconds: float) -> None:
        """Mux `seconds` of mono silence into the audio stream `audio` of the open container `out`."""
        size, done = audio.codec_context.frame_size or 1024, 0
        dtype = np.int16 if audio.format.name.startswith("s16") else np.float32
        while done < seconds * 48000:
            frame = av.AudioFrame.from_ndarray(np.zeros((1, size), dtype), format=audio.format.name, layout="mono")
            frame.sample_rate, frame.pts = 48000, done
            out.mux(audio.encode(frame))
            done += size
        out.mux(audio.encode())

    @staticmethod
    def frame_folder(folder: Path, clip: np.ndarray, names=None) -> Path:
        """Write clip frames as PNGs named names[t] (default frame{t}.png)."""
        folder.mkdir(parents=True, exist_ok=True)
        for t, frame in enumerate(clip):
            Image.fromarray(frame).save(folder / (names[t] if names else f"frame{t}.png"))
        return folder

    @staticmethod
    def ramp_clip(T: int = 12, size: int = 32, seed: int = 0) -> np.ndarray:
        """uint8 (T, size, size, 3): blocky content whose mean brightness encodes the frame number
        (10 + 15 t above the first frame's), so temporal sampling can be read back after decoding."""
        rng = np.random.default_rng(seed)
        base = rng.integers(0, 40, size=(1, size // 8, size // 8, 3)).repeat(8, 1).repeat(8, 2)
        return (base + 10 + 15 * np.arange(T)[:, None, None, None]).clip(0, 255).astype(np.uint8)


@pytest.fixture
def media() -> type[Media]:
    return Media
