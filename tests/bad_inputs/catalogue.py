"""The catalogue of bad inputs: one entry per (command, bad input), with what its one error line must name.

Fields in ``argv`` and ``names`` like ``{model}`` are paths of :func:`tests.bad_inputs.fixtures.make_fixtures`;
``{out}`` is an empty folder that must still be empty after the case (outputs go under it).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Case:
    id: str
    argv: tuple[str, ...]
    names: tuple[str, ...]
    """Every one of these must appear in the error line (a file, a field or an option)."""


def case(id: str, argv: str | tuple[str, ...], *names: str) -> Case:
    return Case(id, tuple(argv.split()) if isinstance(argv, str) else tuple(argv), names)


RECORDING_FILES = ("missing", "empty_edf", "text_edf", "truncated_edf", "header_only_edf", "mat", "unknown_ext",
                   "dir_edf", "foreign_channels_edf", "short_fif", "slow_fif", "nan_fif")
"""Recordings every command that reads one refuses, naming the file."""
CLASSIFIER_FOLDERS = ("pretrained", "missing_dir", "a_file", "empty_dir", "model_bad_config_value",
                      "model_config_type", "model_config_not_json", "model_config_list", "model_no_config",
                      "model_header_too_large", "model_truncated_weights", "model_empty_weights", "model_no_weights",
                      "model_pickle_weights", "model_size_mismatch", "model_no_extractor", "model_extractor_not_json",
                      "model_extractor_bool_rate", "model_extractor_window")
"""Model folders every command that classifies refuses, naming the folder or the file in it."""
DATASET_FOLDERS = ("missing_dir", "a_file", "empty_dir", "dataset_no_metadata", "dataset_metadata_not_json",
                   "dataset_metadata_missing_key", "dataset_metadata_wrong_type", "dataset_no_dict",
                   "dataset_truncated_arrow", "dataset_state_not_json")
RECIPES = ("missing", "recipe_not_yaml", "recipe_unknown_key", "recipe_wrong_type", "recipe_bool_number",
           "recipe_negative", "recipe_nan", "recipe_layout", "recipe_model_value", "recipe_list", "recipe_binary")


def _cases() -> list[Case]:
    cases: list[Case] = []
    add = cases.append
    # predict: every bad recording, every bad model folder, bad options.
    for name in RECORDING_FILES:
        add(case(f"predict-recording-{name}", f"predict {{{name}}} --model {{model}}", f"{{{name}}}"))
    for name in CLASSIFIER_FOLDERS:
        add(case(f"predict-model-{name}", f"predict {{edf}} --model {{{name}}}", f"{{{name}}}"))
    add(case("predict-model-hub-offline", "predict {edf} --model nobody/no-such-model", "nobody/no-such-model"))
    add(case("predict-model-typo-folder", "predict {edf} --model ./typo/of/my/model", "./typo/of/my/model",
             "no such folder"))
    add(case("predict-segment-windows-0", "predict {edf} --model {model} --segment-windows 0", "--segment-windows"))
    add(case("predict-segment-windows-text", "predict {edf} --model {model} --segment-windows many",
             "--segment-windows"))
    add(case("predict-on-missing-raise", "predict {edf} --model {model} --on-missing raise", "{edf}", "CB1"))
    # explain: recordings, models, datasets, outputs.
    for name in ("missing", "text_edf", "mat", "nan_fif", "short_fif"):
        add(case(f"explain-recording-{name}", f"explain {{{name}}} --model {{model}} --output {{out}}/t.png",
                 f"{{{name}}}"))
    for name in ("pretrained", "missing_dir", "model_header_too_large", "model_size_mismatch", "model_no_weights"):
        add(case(f"explain-model-{name}", f"explain {{edf}} --model {{{name}}} --output {{out}}/t.png",
                 f"{{{name}}}"))
    for name in ("dataset_no_metadata", "dataset_truncated_arrow", "dataset_metadata_wrong_type"):
        add(case(f"explain-dataset-{name}", f"explain {{{name}}} --model {{model}} --output {{out}}/t.png",
                 f"{{{name}}}"))
    add(case("explain-max-rows-0", "explain {dataset} --model {model} --max-rows 0 --output {out}/t.png",
             "--max-rows"))
    add(case("explain-output-not-png", "explain {edf} --model {model} --output {out}/t.jpg", "--output", "t.jpg"))
    add(case("explain-output-is-folder", "explain {edf} --model {model} --output {empty_dir}", "{empty_dir}"))
    add(case("explain-output-under-file", "explain {edf} --model {model} --output {a_file}/t.png", "{a_file}"))
    add(case("explain-json-is-folder", "explain {edf} --model {model} --output {out}/t.png --json {empty_dir}",
             "{empty_dir}"))
    # evaluate: models, datasets, options, outputs.
    for name in ("pretrained", "missing_dir", "a_file", "model_bad_config_value", "model_header_too_large",
                 "model_truncated_weights", "model_size_mismatch", "model_no_weights", "model_no_extractor",
                 "model_pickle_weights"):
        add(case(f"evaluate-model-{name}", f"evaluate --model {{{name}}} --dataset {{dataset}}", f"{{{name}}}"))
    for name in DATASET_FOLDERS:
        add(case(f"evaluate-dataset-{name}", f"evaluate --model {{model}} --dataset {{{name}}}", f"{{{name}}}"))
    add(case("evaluate-unknown-subject", "evaluate --model {model} --dataset {dataset} --subject 99", "subject",
             "99"))
    add(case("evaluate-output-is-folder", "evaluate --model {model} --dataset {dataset} --output {empty_dir}",
             "{empty_dir}"))
    # build-dataset: layouts, options, outputs.
    add(case("build-missing-root", "build-dataset seed {missing_dir} {out}/d --quiet", "{missing_dir}"))
    add(case("build-empty-layout", "build-dataset seed {raw_empty_layout} {out}/d --quiet", "{raw_empty_layout}"))
    add(case("build-zero-rows", "build-dataset seed {raw_short_trials} {out}/d --quiet", "{raw_short_trials}",
             "trials"))
    add(case("build-nan-de", "build-dataset seed {raw_nan} {out}/d --quiet", "raw-nan", "de_LDS1"))
    add(case("build-truncated-mat", "build-dataset seed {raw_truncated_mat} {out}/d --quiet", "raw-truncated-mat"))
    add(case("build-deap-bad-pickle", "build-dataset deap {deap_bad_pickle} {out}/d --quiet", "s01.dat"))
    add(case("build-deap-wrong-keys", "build-dataset deap {deap_wrong_keys} {out}/d --quiet", "s01.dat"))
    add(case("build-wrong-layout-for-files", "build-dataset seed-v {raw} {out}/d --quiet", "{raw}"))
    add(case("build-window-seconds-0", "build-dataset seed-raw {raw} {out}/d --window-seconds 0 --quiet",
             "--window-seconds"))
    add(case("build-window-seconds-nan", "build-dataset seed-raw {raw} {out}/d --window-seconds nan --quiet",
             "--window-seconds"))
    add(case("build-window-seconds-inf", "build-dataset seed-raw {raw} {out}/d --window-seconds inf --quiet",
             "--window-seconds"))
    add(case("build-sequence-windows-0", "build-dataset seed {raw} {out}/d --sequence-windows 0 --quiet",
             "--sequence-windows"))
    add(case("build-stride-negative", "build-dataset seed {raw} {out}/d --stride -2 --quiet", "--stride"))
    add(case("build-include-signal-de", "build-dataset seed {raw} {out}/d --include-signal --quiet",
             "include_signal"))
    add(case("build-output-foreign", "build-dataset seed {raw} {project} --quiet", "{project}"))
    add(case("build-output-file", "build-dataset seed {raw} {a_file} --quiet", "{a_file}"))
    add(case("build-output-under-file", "build-dataset seed {raw} {a_file}/d --quiet", "{a_file}"))
    add(case("build-output-symlink", "build-dataset seed {raw} {dataset_link} --sequence-windows 4 --stride 4 "
             "--quiet", "{dataset_link}", "symbolic link"))
    add(case("build-output-other-kind", "build-dataset seed {raw} {repo} --sequence-windows 4 --stride 4 --quiet",
             "{repo}", "model-repo"))
    add(case("build-parquet-foreign", "build-dataset seed {raw} {out}/d --parquet {project} --quiet", "{project}"))
    # simulate: options and outputs.
    add(case("simulate-subjects-0", "simulate {out}/s --subjects 0 --quiet", "--subjects"))
    add(case("simulate-subjects-huge", "simulate {out}/s --subjects 1000000000 --quiet", "--subjects"))
    add(case("simulate-trial-seconds-nan", "simulate {out}/s --trial-seconds nan --quiet", "--trial-seconds"))
    add(case("simulate-trial-seconds-huge", "simulate {out}/s --trial-seconds 1e12 --quiet", "--trial-seconds"))
    add(case("simulate-seed-negative", "simulate {out}/s --seed -1 --quiet", "--seed"))
    add(case("simulate-sessions-seed-v", "simulate {out}/s --layout seed-v --sessions 2 --quiet", "--sessions"))
    add(case("simulate-output-foreign", "simulate {project} --subjects 1 --trial-seconds 2 --quiet", "{project}"))
    add(case("simulate-output-file", "simulate {a_file} --subjects 1 --trial-seconds 2 --quiet", "{a_file}"))
    # publish, publish-dataset, publish-space.
    for name in ("pretrained", "missing_dir", "model_header_too_large", "model_bad_config_value", "model_no_weights"):
        add(case(f"publish-model-{name}", f"publish {{{name}}} --local-dir {{out}}/r", f"{{{name}}}"))
    add(case("publish-bad-report", "publish {model_bad_report} --local-dir {out}/r", "report.json"))
    add(case("publish-nan-report", "publish {model_nan_report} --local-dir {out}/r", "accuracy_mean"))
    add(case("publish-missing-topomap", "publish {model} --local-dir {out}/r --topomap {missing}", "{missing}"))
    add(case("publish-topomap-not-png", "publish {model} --local-dir {out}/r --topomap {not_png}", "{not_png}"))
    add(case("publish-bad-template", "publish {model} --local-dir {out}/r --template {bad_template}",
             "{bad_template}"))
    add(case("publish-foreign-overwrite", "publish {model} --local-dir {project} --overwrite", "{project}"))
    add(case("publish-local-dir-file", "publish {model} --local-dir {a_file}", "{a_file}"))
    add(case("publish-overwrite-added-file", "publish {model} --local-dir {repo_with_notes} --overwrite",
             "{repo_with_notes}", "notes.txt"))
    add(case("publish-overwrite-other-kind", "publish {model} --local-dir {dataset} --overwrite", "{dataset}",
             "dataset folder"))
    add(case("publish-without-overwrite", "publish {model} --local-dir {repo}", "{repo}", "--overwrite"))
    add(case("publish-bad-repo-id", "publish {model} --repo-id not/a/valid/id --local-dir {out}/r", "--repo-id"))
    for name in ("missing_dir", "dataset_no_metadata", "dataset_truncated_arrow"):
        add(case(f"publish-dataset-{name}", f"publish-dataset {{{name}}} --local-dir {{out}}/p", f"{{{name}}}"))
    add(case("publish-dataset-foreign", "publish-dataset {dataset} --local-dir {project}", "{project}"))
    add(case("publish-dataset-other-kind", "publish-dataset {dataset} --local-dir {repo}", "{repo}", "model-repo"))
    add(case("publish-space-foreign-overwrite", "publish-space --model {repo} --local-dir {project} --overwrite",
             "{project}"))
    add(case("publish-space-example-seconds", "publish-space --model {repo} --local-dir {out}/s --example-seconds -1",
             "--example-seconds"))
    add(case("publish-space-example-seconds-nan",
             "publish-space --model {repo} --local-dir {out}/s --example-seconds nan", "--example-seconds"))
    add(case("publish-space-model-missing", "publish-space --model {missing_dir} --local-dir {out}/s",
             "{missing_dir}"))
    add(case("publish-space-copy-pretrained", "publish-space --model {pretrained} --copy-model --local-dir {out}/s",
             "{pretrained}"))
    add(case("publish-space-not-a-repo", "publish-space --model {model} --local-dir {out}/s", "{model}"))
    # Training: recipes, datasets, pre-trained folders, options, outputs.
    for name in RECIPES:
        add(case(f"finetune-recipe-{name}", f"finetune --recipe {{{name}}} --dataset {{dataset}} --output-dir "
                 f"{{out}}/f --quiet", f"{{{name}}}"))
    for name in ("missing_dir", "dataset_no_metadata", "dataset_truncated_arrow", "dataset_metadata_wrong_type"):
        add(case(f"finetune-dataset-{name}", f"finetune --recipe {{recipe}} --dataset {{{name}}} --output-dir "
                 f"{{out}}/f --quiet", f"{{{name}}}"))
    for name in ("missing_dir", "model", "a_file", "model_header_too_large"):
        add(case(f"finetune-pretrained-{name}", f"finetune --recipe {{recipe}} --dataset {{dataset}} --output-dir "
                 f"{{out}}/f --pretrained {{{name}}} --quiet", f"{{{name}}}"))
    add(case("finetune-accumulation-0", "finetune --recipe {recipe} --dataset {dataset} --output-dir {out}/f "
             "--gradient-accumulation-steps 0 --quiet", "--gradient-accumulation-steps"))
    add(case("finetune-output-file", "finetune --recipe {recipe} --dataset {dataset} --output-dir {a_file} --quiet",
             "{a_file}"))
    add(case("finetune-output-under-file", "finetune --recipe {recipe} --dataset {dataset} --output-dir "
             "{a_file}/run --quiet", "{a_file}"))
    for name in ("missing", "recipe_layout", "recipe_bool_number"):
        add(case(f"pretrain-recipe-{name}", f"pretrain --recipe {{{name}}} --dataset {{dataset}} --output-dir "
                 f"{{out}}/p --quiet", f"{{{name}}}"))
    add(case("pretrain-dataset-missing", "pretrain --recipe {recipe} --dataset {missing_dir} --output-dir {out}/p "
             "--quiet", "{missing_dir}"))
    add(case("pretrain-dataset-no-signal", "pretrain --recipe {recipe} --dataset {dataset} --output-dir {out}/p "
             "--quiet", "{dataset}", "signal"))
    add(case("pretrain-corpus-missing", "pretrain --recipe {recipe} --corpus {missing_dir} --output-dir {out}/p "
             "--quiet", "{missing_dir}"))
    add(case("pretrain-output-file", "pretrain --recipe {recipe} --dataset {dataset} --output-dir {a_file} --quiet",
             "{a_file}"))
    add(case("pretrain-accumulation-0", "pretrain --recipe {recipe} --dataset {dataset} --output-dir {out}/p "
             "--gradient-accumulation-steps 0 --quiet", "--gradient-accumulation-steps"))
    # build-corpus (the corpus builder's own checks, through the same error handling).
    add(case("build-corpus-missing-source", "build-corpus {missing_dir} {out}/c --quiet", "{missing_dir}"))
    add(case("build-corpus-output-file", "build-corpus {edf} {a_file} --quiet", "{a_file}"))
    add(case("build-corpus-output-foreign", "build-corpus {edf} {project} --quiet", "{project}"))
    add(case("demo-recipe-missing", "demo --recipe {missing} --output-dir {out}/d --quiet", "{missing}"))
    add(case("demo-recipe-layout", "demo --recipe {recipe_layout} --output-dir {out}/d --quiet", "{recipe_layout}"))
    add(case("demo-seed-dir-missing", "demo --seed-dir {missing_dir} --output-dir {out}/d --quiet", "{missing_dir}"))
    add(case("demo-corpus-missing", "demo --corpus {missing_dir} --output-dir {out}/d --quiet", "{missing_dir}"))
    add(case("demo-output-file", "demo --output-dir {a_file} --quiet", "{a_file}"))
    return cases


CASES: list[Case] = _cases()

CONSOLE_CASES: tuple[str, ...] = (
    "predict-model-pretrained", "explain-recording-mat", "evaluate-model-pretrained", "build-zero-rows",
    "simulate-subjects-0", "publish-foreign-overwrite", "publish-dataset-foreign", "publish-space-example-seconds",
    "finetune-pretrained-missing_dir", "pretrain-output-file", "demo-output-file", "build-corpus-output-foreign",
)
"""One case per command run through the real console script (the rest run batched in one process)."""
