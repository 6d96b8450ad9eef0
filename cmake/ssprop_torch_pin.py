"""pyproject.toml's dependency provider: the wheel requires exactly the torch
that the build compiled against (the torch of the build's Python), since
libssprop_torch links its C++ ABI."""

from importlib.metadata import PackageNotFoundError, version


def dynamic_metadata(settings, project):
    if settings:
        raise RuntimeError(f"ssprop_torch_pin takes no settings, got {sorted(settings)}")
    try:
        return {"dependencies": [f"torch=={version('torch')}"]}
    except PackageNotFoundError:
        raise RuntimeError("ssprop is built against torch: install torch into the "
                           "build's Python first (or let pip's build isolation do it)") from None
