"""`booking:image`: build `app/` during `pulumi up`, or deploy a tag CI already pushed to ECR."""

from __future__ import annotations

from dataclasses import dataclass

from components.types import DOCKER_TAG
from stacks.settings._base import Section


@dataclass(frozen=True)
class ImageSettings:
    tag: str
    """Empty: build `app/` and push it; otherwise an existing tag in the stack's ECR repository."""
    keep_images: int

    @property
    def build(self) -> bool:
        return self.tag == ""


def parse_image(raw: object) -> ImageSettings:
    s = Section("image", raw, ["tag", "keepImages"])
    tag = s.string("tag", "")
    if tag and not DOCKER_TAG.match(tag):
        raise s.error(
            "tag",
            tag,
            'must be "" (build app/) or a Docker tag: up to 128 letters, digits, _ . -',
        )
    return ImageSettings(tag=tag, keep_images=s.integer("keepImages", 20, minimum=1, maximum=1000))
