"""Evaluate finished runs and baselines (task=evaluate; with data=<other cohort> also across cohorts), interpret
them (task=ism), impute expression (task=predict) or score a VCF's variants (task=score_variants):
`python evaluate.py runs=outputs/single_gene`."""

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from performer.evaluation.apply import impute_task, score_variants_task
from performer.evaluation.evaluate import evaluate
from performer.interpret.pipeline import interpret


@hydra.main(config_path="conf", config_name="evaluate", version_base="1.3")
def main(cfg: DictConfig) -> None:
    tasks = {"evaluate": evaluate, "ism": interpret, "predict": impute_task, "score_variants": score_variants_task}
    if cfg.task not in tasks:
        raise ValueError(f"task={cfg.task!r}: choose one of {sorted(tasks)}")
    tasks[cfg.task](cfg, HydraConfig.get().runtime.output_dir)


if __name__ == "__main__":
    main()
