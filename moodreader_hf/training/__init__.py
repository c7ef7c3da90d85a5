"""Training: MBSM pre-training, fine-tuning and leave-one-subject-out evaluation with accelerate.

Modules: :mod:`.recipe` (typed YAML recipes), :mod:`.data` (dataset columns as tensors, batches by index slicing),
:mod:`.folds` (LOSO and within-subject splits), :mod:`.pretrain`, :mod:`.finetune`, :mod:`.metrics`,
:mod:`.baseline` (logistic regression on flattened DE), :mod:`.report` (JSON, Markdown, confusion-matrix picture).
"""
