"""Evaluate finished runs and baselines (task=evaluate; with data=<other cohort> also across cohorts), interpret
them (task=ism), impute expression (task=predict) or score a VCF's variants (task=score_variants):
`python evaluate.py runs=outputs/single_gene`. Each task is a module of performer/tasks."""

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from performer.tasks.evaluate import evaluate
from performer.tasks.impute import impute_task
from performer.tasks.interpret import interpret
from performer.tasks.score_variants import score_variants_task

TASKS = {"evaluate": evaluate, "ism": interpret, "predict": impute_task, "score_variants": score_variants_task}
"""``task=`` -> the task's function of (config, output folder)."""


@hydra.main(config_path="conf", config_name="evaluate", version_base="1.3")
def main(cfg: DictConfig) -> None:
    if cfg.task not in TASKS:
        raise ValueError(f"task={cfg.task!r}: choose one of {sorted(TASKS)}")
    TASKS[cfg.task](cfg, HydraConfig.get().runtime.output_dir)


if __name__ == "__main__":
    main()
