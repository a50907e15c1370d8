"""Forms: they turn request data into core inputs, and core errors into form errors."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings

from advisor.core.errors import InputError
from advisor.core.lifecycle import FIELD_NAMES, Assumptions, assumptions_from_mapping
from advisor.core.versions import NEWEST, SUPPORTED, format_version
from advisor.core.yamlload import decode
from webui import limits

VERSION_CHOICES = [(format_version(v), format_version(v)) for v in reversed(SUPPORTED)]
ASSUMPTION_LABELS = {
    "image_start_seconds": "Image start (s)",
    "init_run_seconds": "Init container run time (s)",
    "ready_after_seconds": "Ready after (s)",
    "exec_prestop_seconds": "exec/httpGet preStop (s)",
    "exit_after_sigterm_seconds": "Exit after SIGTERM (s)",
    "post_start_seconds": "postStart hook (s)",
}


class AnalyzeForm(forms.Form):
    """A pasted or uploaded manifest, the target version, defaulting, and what-if timings."""

    manifest = forms.CharField(
        required=False,
        strip=False,
        widget=forms.Textarea(
            attrs={"rows": 22, "spellcheck": "false", "autocomplete": "off", "wrap": "off"}
        ),
        label="Manifest (YAML or JSON)",
    )
    upload = forms.FileField(
        required=False,
        label="or upload a file",
        widget=forms.ClearableFileInput(attrs={"accept": ".yaml,.yml,.json,application/json"}),
    )
    kubernetes_version = forms.ChoiceField(
        choices=VERSION_CHOICES, initial=format_version(NEWEST), label="Kubernetes version"
    )
    api_defaults = forms.BooleanField(
        required=False, initial=True, label="Apply the API server's defaulting first"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        defaults = Assumptions()
        for name in FIELD_NAMES:
            self.fields[name] = forms.FloatField(
                required=False,
                min_value=0,
                max_value=86400,
                label=ASSUMPTION_LABELS.get(name, name),
                widget=forms.NumberInput(
                    # Rendered beside the results, but submitted with the manifest form.
                    attrs={
                        "step": "0.5",
                        "placeholder": getattr(defaults, name),
                        "form": "analyze-form",
                    }
                ),
            )

    def assumption_fields(self) -> list[forms.BoundField]:
        """The what-if inputs, in order."""
        return [self[name] for name in FIELD_NAMES]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        upload = data.get("upload")
        text = data.get("manifest") or ""
        if upload is not None:
            text = self._read_upload(upload)
            # Keep what was uploaded in the text box, so the user can edit and re-run it.
            self.data = self.data.copy()
            self.data["manifest"] = text
        limit = settings.ADVISOR_MAX_INPUT_BYTES
        if len(text.encode("utf-8", "surrogatepass")) > limit:
            raise forms.ValidationError(
                f"The manifest is larger than {limits.manifest_limit()}, the most the analyser "
                "accepts (here and in the API). Split it into smaller files and analyse them one "
                "by one.",
                code="too_big",  # answered 413, as every input over the budget's bytes
            )
        if not text.strip():
            raise forms.ValidationError("Paste a manifest or choose a file.")
        data["text"] = text
        data["assumptions"] = self._assumptions(data)
        return data

    def _read_upload(self, upload: Any) -> str:
        limit = settings.ADVISOR_MAX_INPUT_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                f"The file is larger than {limits.manifest_limit()}, "
                "the most the analyser accepts.",
                code="too_big",
            )
        try:
            return decode(upload.read(), file=upload.name)
        except InputError as exc:
            raise forms.ValidationError(exc.describe()) from None

    def _assumptions(self, data: dict[str, Any]) -> Assumptions:
        values = {name: data[name] for name in FIELD_NAMES if data.get(name) is not None}
        try:
            return assumptions_from_mapping(values)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None

    @property
    def text(self) -> str:
        """The manifest as the user last had it (also when the form is invalid)."""
        value = self.data.get("manifest", "") if self.is_bound else ""
        return value if isinstance(value, str) else ""


class StarterForm(forms.Form):
    """Names and images for the questionnaire's starter manifest."""

    app_name = forms.CharField(initial="app", max_length=63)
    app_image = forms.CharField(initial="registry.example/app:1.0", max_length=255)
    helper_name = forms.CharField(initial="helper", max_length=63)
    helper_image = forms.CharField(initial="registry.example/helper:1.0", max_length=255)
