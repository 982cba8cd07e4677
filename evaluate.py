"""Evaluate finished runs and baselines: `python evaluate.py runs=outputs/single_gene` (conf/evaluate.yaml)."""

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from performer.evaluation.evaluate import evaluate


@hydra.main(config_path="conf", config_name="evaluate", version_base="1.3")
def main(cfg: DictConfig) -> None:
    evaluate(cfg, HydraConfig.get().runtime.output_dir)


if __name__ == "__main__":
    main()
