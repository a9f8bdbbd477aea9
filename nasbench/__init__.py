"""nasbench: neural architecture search and model scaling of CNNs, with every network a genome."""
from nasbench.build import build
from nasbench.deploy.load import load_model
from nasbench.gene import GenomeError
from nasbench.genome import Genome, Scaling, Stage
from nasbench.head import Head

__all__ = ["Genome", "GenomeError", "Head", "Scaling", "Stage", "build", "load_model"]
__version__ = "0.1.0"

