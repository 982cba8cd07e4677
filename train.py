"""Fine-tune Performer on personal genomes: `python train.py gene=BTNL3` (see conf/train.yaml)."""

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from performer.run import check_launch, train


@hydra.main(config_path="conf", config_name="train", version_base="1.3")
def main(cfg: DictConfig) -> None:
    job = HydraConfig.get()
    check_launch(cfg, job)
    train(cfg, job.runtime.output_dir)


if __name__ == "__main__":
    main()
