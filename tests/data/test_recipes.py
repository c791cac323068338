"""Recipes: every dataset describes itself as plain JSON, `from_recipe` rebuilds exactly the same
clips (synthetic tasks, folders of real mp4 files, manifests, and splits of each),
`fresh_recipe` gives new synthetic clips, and a recipe that cannot be used is refused by name."""
import json
import re

import numpy as np
import pandas as pd
import pytest

from labkit import data
from labkit.data.tasks import TASKS


def _json(recipe: dict) -> dict:
    """The recipe as a run folder gives it back: written to JSON text and read again."""
    return json.loads(json.dumps(recipe))


def assert_same(a: data.ClipDataset, b: data.ClipDataset) -> None:
    """Same clips (padded batch), labels, class order, groups, lengths, evidence and recipe."""
    assert len(a) == len(b) and a.classes == b.classes
    every = range(len(a))
    clips_a, labels_a, lengths_a = a.batch(every)
    clips_b, labels_b, lengths_b = b.batch(every)
    assert np.array_equal(clips_a, clips_b) and np.array_equal(labels_a, labels_b)
    assert np.array_equal(lengths_a, lengths_b) and (a.lengths is None) == (b.lengths is None)
    assert (a.groups is None and b.groups is None) or list(a.groups) == list(b.groups)
    assert np.array_equal(a.index, b.index)
    if a.evidence is not None:
        assert np.array_equal(a.evidence_frames, b.evidence_frames)
        assert all(np.array_equal(a.evidence_mask(i), b.evidence_mask(i)) for i in every)
    assert a.recipe == b.recipe


# each task with every option away from its default
NON_DEFAULT = [("direction", {"speed": (2.0, 3.0), "radius": (3.0, 5.0)}),
               ("order", {"gap": (2, 4), "duration": 2, "flash_size": (6.0, 10.0)}),
               ("digits", {"label": "direction", "digit_size": 20.0, "speed": (1.5, 2.0)})]


@pytest.mark.parametrize("name,options", NON_DEFAULT)
def test_synthetic_round_trip_with_non_default_options(name, options):
    ds = data.synthetic(name, n=70, frames=8, size=32, seed=3, workers=2, **options)
    recipe = ds.recipe
    assert recipe == {"kind": "synthetic", "task": name, "n": 70, "frames": 8, "size": 32, "seed": 3,
                      "options": _json(options)}  # tuples as lists; workers is not part of it
    assert _json(recipe) == recipe
    assert_same(data.from_recipe(_json(recipe)), ds)


@pytest.mark.parametrize("name", sorted(TASKS))
def test_synthetic_recipe_holds_every_option_in_effect(name):
    ds = data.synthetic(name, n=6, frames=6, size=16, seed=1)
    assert set(ds.recipe["options"]) == set(TASKS[name].OPTIONS)
    if name == "order":
        assert ds.recipe["options"]["gap"] == 3  # None resolved to frames // 2
    assert_same(data.from_recipe(_json(ds.recipe), workers=1, progress=False), ds)


@pytest.mark.parametrize("name,options", NON_DEFAULT)
def test_splits_and_subsets_of_a_synthetic_dataset(name, options):
    ds = data.synthetic(name, n=80, frames=6, size=16, seed=0, **options)
    parts = data.split(ds, (0.6, 0.2, 0.2), seed=1)
    for part in parts:
        assert part.recipe == {"kind": "subset", "of": ds.recipe, "indices": part.index.tolist()}
        assert _json(part.recipe) == part.recipe
        assert_same(data.from_recipe(_json(part.recipe)), part)
    te = parts[2]
    inner = data.subset(te, [3, 0, 1])  # a subset of a subset names the root directly, never nests
    assert inner.recipe["of"] == ds.recipe and inner.recipe["indices"] == te.index[[3, 0, 1]].tolist()
    assert_same(data.from_recipe(_json(inner.recipe)), inner)


@pytest.fixture
def videos(media, tmp_path):
    """<tmp>/videos/<class>/<subject>_<take>.mp4: real mp4 files (PyAV), lengths 6 to 9 frames."""
    root = tmp_path / "videos"
    for k, (cls, subj) in enumerate((c, s) for c in ("walk", "jump", "sit") for s in ("s1", "s2", "s10")):
        media.encode(root / cls / f"{subj}_take{k}.mp4", media.ramp_clip(6 + k % 4, 32, seed=k))
    return root


def test_folder_round_trip(videos, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a relative root is recorded absolute
    ds = data.folder("videos", frames=None, size=16, crop="center", classes=["walk", "sit", "jump"],
                     group_pattern=r"^(s\d+)_", progress=False)
    assert ds.recipe == {"kind": "folder", "root": str(videos.resolve()), "frames": None, "size": 16,
                         "crop": "center", "classes": ["walk", "sit", "jump"], "group_pattern": r"^(s\d+)_",
                         "on_error": "raise"}
    assert _json(ds.recipe) == ds.recipe and ds.lengths is not None
    monkeypatch.chdir(videos.parent.parent)  # read back from elsewhere
    assert_same(data.from_recipe(_json(ds.recipe), progress=False), ds)


def test_folder_recipe_records_the_class_order_found(videos):
    ds = data.folder(videos, frames=4, size=16, progress=False)
    assert ds.recipe["classes"] == ["jump", "sit", "walk"] and ds.recipe["group_pattern"] is None
    lazy = data.from_recipe(_json(ds.recipe), in_memory=False, cache_dir=videos.parent / "c", workers=1,
                            progress=False)  # how it loads is not the recipe's business
    assert type(lazy._clips).__name__ == "NpyClips"
    assert_same(lazy, ds)


def test_splits_of_a_folder(videos):
    ds = data.folder(videos, frames=4, size=16, group_pattern=r"^(s\d+)_", progress=False)
    for part in data.split(ds, (0.34, 0.33, 0.33), seed=0):
        assert part.recipe["of"] == ds.recipe and _json(part.recipe) == part.recipe
        assert_same(data.from_recipe(_json(part.recipe), progress=False), part)


def test_manifest_round_trip_and_split(media, tmp_path):
    media.encode(tmp_path / "clips" / "one.mp4", media.ramp_clip(5, 16))
    media.frame_folder(tmp_path / "clips" / "two", media.ramp_clip(5, 16, seed=1))
    media.encode(tmp_path / "clips" / "three.mp4", media.ramp_clip(5, 16, seed=2))
    media.encode(tmp_path / "clips" / "four.mp4", media.ramp_clip(5, 16, seed=3))  # each clip once: see test_manifests
    pd.DataFrame({"path": ["clips/one.mp4", "clips/two", "clips/three.mp4", "clips/four.mp4"],
                  "label": ["b", "a", "b", "a"], "group": ["p1", "p1", "p2", ""]}).to_csv(tmp_path / "list.csv",
                                                                                      index=False)
    ds = data.manifest(tmp_path / "list.csv", frames=5, size=16, on_error="skip", progress=False)
    assert ds.recipe == {"kind": "manifest", "csv": str((tmp_path / "list.csv").resolve()), "frames": 5,
                         "size": 16, "crop": None, "classes": ["a", "b"], "group_pattern": None, "on_error": "skip"}
    assert _json(ds.recipe) == ds.recipe
    assert_same(data.from_recipe(_json(ds.recipe), progress=False), ds)  # the empty group cell included
    part = data.subset(ds, [3, 1])
    assert_same(data.from_recipe(_json(part.recipe), progress=False), part)


def test_datasets_built_by_hand_have_no_recipe():
    ds = data.ClipDataset(np.zeros((3, 2, 4, 4, 3), np.uint8), [0, 1, 0], ["a", "b"], "hand")
    assert ds.recipe is None and data.subset(ds, [0, 2]).recipe is None
    with pytest.raises(ValueError, match="got NoneType.*built by hand"):
        data.from_recipe(ds.recipe)


def test_the_recipe_is_a_copy():
    ds = data.synthetic("order", n=4, frames=4, size=16, gap=2)
    ds.recipe["options"]["gap"] = 3
    assert ds.recipe["options"]["gap"] == 2


def test_fresh_recipe_gives_new_clips_of_the_same_task():
    ds = data.synthetic("order", n=40, frames=8, size=16, seed=0, gap=(2, 4))
    fresh = data.fresh_recipe(ds.recipe, seed=1)
    assert fresh == {**ds.recipe, "seed": 1}
    new = data.from_recipe(fresh)
    assert new.classes == ds.classes and new.clip_shape == ds.clip_shape
    assert not np.array_equal(new._clips, ds._clips)
    te = data.split(ds, (0.5, 0.5))[1]
    assert data.fresh_recipe(_json(te.recipe), 7) == {**ds.recipe, "seed": 7}  # a split: the whole task, reseeded
    with pytest.raises(ValueError, match="seed=0 is the recipe's own seed"):
        data.fresh_recipe(te.recipe, 0)
    with pytest.raises(ValueError, match="seed='1' must be an integer"):
        data.fresh_recipe(ds.recipe, "1")


def test_folders_have_no_fresh_clips(videos):
    ds = data.folder(videos, frames=4, size=16, progress=False)
    for recipe in (ds.recipe, data.subset(ds, [0]).recipe):
        with pytest.raises(ValueError, match="a folder has no fresh clips.*data.split"):
            data.fresh_recipe(recipe, 1)


def test_unusable_recipes_name_the_key_and_the_fix(tmp_path):
    good = data.synthetic("order", n=8, frames=4, size=16, gap=2).recipe
    cases = [
        ({**good, "kind": "youtube"}, r"kind='youtube' is unknown.*one of \['folder', 'manifest'"),
        ({k: v for k, v in good.items() if k != "seed"}, r"synthetic recipe lacks key\(s\) \['seed'\].*'seed'"),
        ({**good, "workers": 2}, r"has unknown key\(s\) \['workers'\]"),
        ({**good, "options": [2]}, r"options=\[2\] must be a dict"),
        ({**good, "options": {"gapp": 2}}, r"unknown option\(s\) \['gapp'\]"),
        ({**good, "task": "spin"}, "unknown synthetic task 'spin'"),
        ({"kind": "subset", "of": {"kind": "subset", "of": good, "indices": [0]}, "indices": [0]},
         "'of' is itself a subset"),
        ({"kind": "subset", "of": good, "indices": [0, "1"]}, "'indices' must be a list of ints"),
        ({"kind": "subset", "of": good, "indices": [0, 8]}, r"indices \[8\] lie outside the 8 clips.*changed"),
        ({"kind": "subset", "of": {"kind": "folder"}, "indices": [0]}, r"folder recipe lacks key\(s\) \['root'"),
    ]
    for recipe, message in cases:
        with pytest.raises(ValueError, match=message):
            data.from_recipe(recipe)
    with pytest.raises(ValueError, match=r"\['frames'\] are not loading options.*recipe's keys"):
        data.from_recipe(good, frames=8)


def test_a_folder_or_manifest_that_moved_is_named(videos, tmp_path):
    ds = data.folder(videos, frames=4, size=16, progress=False)
    moved = {**ds.recipe, "root": str(tmp_path / "gone")}
    with pytest.raises(ValueError, match=re.escape(f"folder recipe: root='{tmp_path / 'gone'}' no longer exists")):
        data.from_recipe(moved)
    listed = {**ds.recipe, "kind": "manifest", "csv": str(tmp_path / "list.csv")}
    del listed["root"]
    with pytest.raises(ValueError, match="manifest recipe: csv=.*list.csv' no longer exists"):
        data.from_recipe({"kind": "subset", "of": listed, "indices": [0]})
