"""Training: MBSM pre-training, fine-tuning and evaluation by named protocols with accelerate.

Modules: :mod:`.recipe` (typed YAML recipes), :mod:`.data` (dataset columns as tensors, batches by index slicing),
:mod:`.protocols` (the named splits; :mod:`.folds` the fold and its isolation record, :mod:`.given_split` a
dataset's own split), :mod:`.pretrain`, :mod:`.finetune`, :mod:`.window_scores` (rows to windows), :mod:`.metrics`,
:mod:`.statistics` (intervals, Wilcoxon), :mod:`.baseline` (logistic regression and linear SVM on per-window DE),
:mod:`.summary` (the report's numbers), :mod:`.report` (JSON, Markdown, confusion-matrix picture).
"""
