"""Recipes: how a dataset says, as plain JSON data, how to rebuild exactly its clips.

    ds.recipe                           # {"kind": "synthetic", "task": "order", ..., "options": {"gap": 3, ...}}
    data.from_recipe(ds.recipe)         # the same clips, labels, class order, groups, lengths (and evidence)
    data.fresh_recipe(ds.recipe, 1)     # the same synthetic task and options, new clips

The kinds and their keys (run folders store them, so these keys are a file format):

    synthetic   task, n, frames, size, seed, options (every task option in effect, defaults too)
    folder      root (absolute), frames, size, crop, classes (the order in effect), group_pattern, on_error
    manifest    csv (absolute), then the same keys as folder
    subset      of (the recipe of the dataset as first loaded, never a subset), indices (positions in it)

How the clips are loaded (progress, cache_dir, in_memory, workers) is not part of a recipe: it
never changes them, so `from_recipe` takes it as keyword arguments.
"""
from __future__ import annotations

import copy
from pathlib import Path

import numpy as np

from labkit.errors import LabkitError
from .dataset import ClipDataset, root_recipe, subset
from .files import folder, manifest
from .tasks import synthetic

KEYS = {
    "synthetic": ("task", "n", "frames", "size", "seed", "options"),
    "folder": ("root", "frames", "size", "crop", "classes", "group_pattern", "on_error"),
    "manifest": ("csv", "frames", "size", "crop", "classes", "group_pattern", "on_error"),
    "subset": ("of", "indices"),
}
LOAD_OPTIONS = ("progress", "cache_dir", "in_memory", "workers")


def from_recipe(recipe: dict, **load) -> ClipDataset:
    """Rebuild the dataset that `recipe` (a `ds.recipe`, possibly read back from JSON) describes.

    load: how to load, never what: progress, cache_dir, in_memory, workers (as for `folder`;
    a synthetic task uses only workers, since it is generated in memory). Raises ValueError
    naming the key and the fix when the recipe cannot be used (unknown kind, missing key, a
    folder or manifest that is no longer there, indices beyond the data).
    """
    kind = _checked_kind(recipe)
    unknown = sorted(set(load) - set(LOAD_OPTIONS))
    if unknown:
        raise LabkitError(f"from_recipe: {unknown} are not loading options (those are {list(LOAD_OPTIONS)}); "
                         f"what the clips are is set by the recipe's keys: change those instead")
    if kind == "subset":
        return _subset(recipe, load)
    if kind == "synthetic":
        return _synthetic(recipe, load)
    return _files(recipe, load)


def fresh_recipe(recipe: dict, seed: int) -> dict:
    """The synthetic recipe with another seed: new clips of the same task, sizes and options
    (clips no model trained on the recipe's data has seen). For a subset (a split) of a
    synthetic dataset, the whole synthetic recipe with the new seed.

    Raises ValueError for a folder or manifest (a folder has no fresh clips) and when `seed`
    is the recipe's own (the clips would be the same ones).
    """
    _checked_kind(recipe)
    root = root_recipe(recipe)
    if root["kind"] != "synthetic":
        raise LabkitError(f"fresh_recipe: a {root['kind']} has no fresh clips (only synthetic tasks can generate "
                         f"new ones); hold out clips with data.split instead, or record new videos")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise LabkitError(f"fresh_recipe: seed={seed!r} must be an integer")
    if seed == root["seed"]:
        raise LabkitError(f"fresh_recipe: seed={seed} is the recipe's own seed, so the clips would be the same "
                         f"ones; choose another seed")
    return {**copy.deepcopy(root), "seed": int(seed)}


def _checked_kind(recipe) -> str:
    """The recipe's kind, once its keys (and a subset's `of` and `indices`) are checked; raises
    ValueError naming the key and the fix."""
    if not isinstance(recipe, dict):
        raise LabkitError(f"a recipe is a dict such as ds.recipe; got {type(recipe).__name__} "
                         f"(None: that dataset was built by hand from arrays, so it has no recipe)")
    kind = recipe.get("kind")
    if kind not in KEYS:
        raise LabkitError(f"recipe kind={kind!r} is unknown; a recipe's kind is one of {sorted(KEYS)} "
                         f"(take the recipe from ds.recipe)")
    missing = [k for k in KEYS[kind] if k not in recipe]
    extra = sorted(set(recipe) - {"kind", *KEYS[kind]})
    if missing or extra:
        problem = f"lacks key(s) {missing}" if missing else f"has unknown key(s) {extra}"
        raise LabkitError(f"{kind} recipe {problem}; a {kind} recipe has exactly the keys "
                         f"{['kind', *KEYS[kind]]} (take it from ds.recipe)")
    if kind == "subset":
        _check_subset(recipe)
    return kind


def _check_subset(recipe: dict) -> None:
    """A subset's `of` is a usable recipe other than a subset; its `indices` a list of ints."""
    of, indices = recipe["of"], recipe["indices"]
    if isinstance(of, dict) and of.get("kind") == "subset":
        raise LabkitError("subset recipe: 'of' is itself a subset; 'of' must be the recipe of the dataset as "
                         "first loaded, with 'indices' into it (data.subset and data.split write it so)")
    _checked_kind(of)
    if not isinstance(indices, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in indices):
        raise LabkitError("subset recipe: 'indices' must be a list of ints, the positions of the clips in the "
                         "dataset that 'of' describes")


def _subset(recipe: dict, load: dict) -> ClipDataset:
    whole = from_recipe(recipe["of"], **load)
    outside = [i for i in recipe["indices"] if not 0 <= i < len(whole)]
    if outside:
        raise LabkitError(f"subset recipe: indices {outside[:3]} lie outside the {len(whole)} clips that 'of' "
                         f"gives now, so the data changed since the recipe was written; restore it, or split "
                         f"the data anew")
    return subset(whole, recipe["indices"])


def _synthetic(recipe: dict, load: dict) -> ClipDataset:
    options = recipe["options"]
    if not isinstance(options, dict):
        raise LabkitError(f"synthetic recipe: options={options!r} must be a dict of task options, e.g. {{'gap': 3}}")
    # JSON turned the tasks' (low, high) tuples into lists: give them back as the tasks document them
    options = {k: tuple(v) if isinstance(v, list) else v for k, v in options.items()}
    return synthetic(recipe["task"], n=recipe["n"], frames=recipe["frames"], size=recipe["size"],
                     seed=recipe["seed"], workers=load.get("workers"), **options)


def _files(recipe: dict, load: dict) -> ClipDataset:
    """A folder or manifest recipe: the loader called on the same path with the same parameters."""
    kind = recipe["kind"]
    key, loader = ("root", folder) if kind == "folder" else ("csv", manifest)
    path = Path(recipe[key])
    if not path.exists():
        raise LabkitError(f"{kind} recipe: {key}={str(path)!r} no longer exists; put the data back there, "
                         f"or set the recipe's {key!r} to where it is now")
    params = {k: recipe[k] for k in KEYS[kind][1:]}  # frames, size, crop, classes, group_pattern, on_error
    return loader(path, **params, **load)
