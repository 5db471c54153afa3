"""Renders `deploy/k8s` the way `kubectl kustomize` does, for the fields the manifests use.

No kustomize or kubectl binary is guaranteed on a developer's machine or in CI, so the tests
render in Python. Only the fields below are implemented, each with kustomize's meaning, and any
other field of a kustomization (a generator, a strategic-merge patch, a regex target) is refused,
so that a manifest cannot quietly render differently here than on the cluster. Where `kubectl`
is installed, `test_manifests.py` checks that it renders the same objects.

- `resources`: YAML files of objects, or directories holding a kustomization (rendered first);
- `namespace`: set on every object;
- `patches`: JSON patches (RFC 6902), inline or from a file, on the objects a `target` selects
  by kind and/or exact name;
- `replicas`: `spec.replicas` of the named Deployment (StatefulSet, ReplicaSet);
- `images`: the image of every container whose image name (before `:tag`) is `name`.
"""

import re
from pathlib import Path
from typing import Any

import jsonpatch
import yaml

# the kinds kustomize's replica count transformer changes (never, e.g., a PDB of the same name)
SCALED_KINDS = {"Deployment", "ReplicaSet", "ReplicationController", "StatefulSet"}
SUPPORTED = {"apiVersion", "kind", "resources", "namespace", "patches", "replicas", "images"}
_PLAIN_NAME = re.compile(r"[a-z0-9.-]+")

Object = dict[str, Any]


class UnsupportedKustomization(ValueError):
    """A kustomization uses a field this renderer does not implement."""


def render(directory: Path) -> list[Object]:
    """The objects `kubectl kustomize directory` would print (in file order, not kind order)."""
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    unknown = set(kustomization) - SUPPORTED
    if unknown:
        raise UnsupportedKustomization(f"{directory}: fields {sorted(unknown)}")
    objects: list[Object] = []
    for resource in kustomization.get("resources", []):
        path = (directory / resource).resolve()
        if path.is_dir():
            objects.extend(render(path))
        else:
            objects.extend(doc for doc in yaml.safe_load_all(path.read_text()) if doc)
    for patch in kustomization.get("patches", []):
        _apply_patch(directory, patch, objects)
    if "namespace" in kustomization:
        for obj in objects:
            obj["metadata"]["namespace"] = kustomization["namespace"]
    for replicas in kustomization.get("replicas", []):
        selected = [
            obj
            for obj in objects
            if obj["kind"] in SCALED_KINDS and obj["metadata"]["name"] == replicas["name"]
        ]
        if not selected:
            raise UnsupportedKustomization(f"{directory}: replicas of unknown {replicas['name']}")
        for obj in selected:
            obj["spec"]["replicas"] = replicas["count"]
    for image in kustomization.get("images", []):
        for container in _containers(objects):
            if container["image"].split("@")[0].split(":")[0] == image["name"]:
                name = image.get("newName", image["name"])
                container["image"] = f"{name}:{image['newTag']}" if "newTag" in image else name
    return objects


def _apply_patch(directory: Path, patch: Object, objects: list[Object]) -> None:
    text = (directory / patch["path"]).read_text() if "path" in patch else patch["patch"]
    operations = yaml.safe_load(text)
    if not isinstance(operations, list):
        raise UnsupportedKustomization(f"{directory}: a strategic-merge patch, not a JSON patch")
    target = patch.get("target", {})
    if set(target) - {"kind", "name"} or not _PLAIN_NAME.fullmatch(target.get("name", "x")):
        raise UnsupportedKustomization(f"{directory}: target {target}")
    selected = [
        index
        for index, obj in enumerate(objects)
        if target.get("kind", obj["kind"]) == obj["kind"]
        and target.get("name", obj["metadata"]["name"]) == obj["metadata"]["name"]
    ]
    if not selected:
        raise UnsupportedKustomization(f"{directory}: patch target {target} selects nothing")
    for index in selected:
        objects[index] = jsonpatch.apply_patch(objects[index], operations)


def _containers(objects: list[Object]) -> list[Object]:
    pods = [obj["spec"]["template"]["spec"] for obj in objects if "template" in obj.get("spec", {})]
    return [c for pod in pods for c in pod.get("initContainers", []) + pod["containers"]]
