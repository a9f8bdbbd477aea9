"""From a front member to a deployable model, without Ray: the recipe's pieces in the trainer (augmentation, warm-up
then cosine, EMA, exact resume from a checkpoint), where a genome comes from, the model card, load_model, the
exports and their refusal, and bad input to both commands (one line, exit code 2, before Ray starts)."""
import dataclasses
import io
import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

import nasbench
from nasbench import Genome, Head, Stage, build
from nasbench.augment import affine, augmenter, crop_flip
from nasbench.blocks.conv import ConvGene
from nasbench.blocks.residual import BasicGene
from nasbench.data import load_dataset
from nasbench.deploy.card import CARD_FILE, CardError, new_card, read_card, write_card
from nasbench.deploy.export import ExportMismatch, export_model
from nasbench.deploy.recipe import augmentation, describe_recipe, train_config
from nasbench.deploy.settings import RetrainSettings
from nasbench.deploy.source import front_member, zoo_member
from nasbench.errors import SettingError
from nasbench.train import TrainConfig, evaluate
from runners import export as export_cli
from runners import train as train_cli

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "results" / "example"
TINY = Genome(stem=(Stage(ConvGene(channels=8), 1, 1),), stages=(Stage(BasicGene(channels=16), 1, 2),),
              head=Head(dropout=0.2), in_chans=1, resolution=16, num_classes=10)
RECIPE = TrainConfig(epochs=3, batch_size=32, lr=0.1, threads=1, warmup_epochs=1, label_smoothing=0.1,
                     ema_decay=0.9, augment="affine")


@pytest.fixture(scope="module")
def small_digits():
    return load_dataset("digits", limit=64)


@pytest.fixture()
def no_ray(monkeypatch):
    """Fail the test if a command gets as far as connecting to Ray."""
    from nasbench.search import cluster

    def connected(settings):
        raise AssertionError("Ray was started")

    monkeypatch.setattr(cluster, "connected", connected)


def run_cli(module, capsys, *argv):
    with pytest.raises(SystemExit) as info:
        module.main([str(a) for a in argv])
    return info.value.code, capsys.readouterr()


# ---- the recipe in the trainer ---------------------------------------------------------------------------------

def test_crop_flip_moves_whole_pixels():
    images = torch.arange(1.0, 1 + 32 * 64).reshape(32, 1, 8, 8)
    out = crop_flip(images, torch.Generator().manual_seed(0))
    assert out.shape == images.shape
    for before, after in zip(images, out):  # every pixel is one of the image's own, or the (zero) border
        assert set(after.unique().tolist()) <= set(before.unique().tolist()) | {0.0}
    flipped = sum(torch.equal(a[0, 2:6, 2:6], b[0, 2:6, 2:6].flip(-1)) for a, b in zip(out, images))
    moved = sum(not torch.equal(a, b) for a, b in zip(out, images))
    assert moved >= 24 and flipped >= 1


def test_augmentations_are_seeded_and_per_image(small_digits):
    images = torch.randn(16, 3, 12, 12, generator=torch.Generator().manual_seed(0))
    for augment in (crop_flip, affine):
        first = augment(images, torch.Generator().manual_seed(3))
        assert torch.equal(first, augment(images, torch.Generator().manual_seed(3)))
        assert not torch.equal(first, augment(images, torch.Generator().manual_seed(4)))
        assert torch.isfinite(first).all() and first.shape == images.shape
    digits = small_digits.train.images[:32]
    before, after = (x.flatten(1) - x.flatten(1).mean(1, keepdim=True)
                     for x in (digits, affine(digits, torch.Generator().manual_seed(0))))
    correlation = (before * after).sum(1) / (before.norm(dim=1) * after.norm(dim=1))
    assert 0.6 < correlation.mean() < 0.95  # measured 0.78: each digit moved, and still itself
    assert augmenter("none") is None
    with pytest.raises(ValueError, match="unknown augmentation 'blur'"):
        augmenter("blur")


def test_recipe_config_is_checked():
    with pytest.raises(ValueError, match="warmup_epochs must be an integer from 0 to epochs - 1"):
        TrainConfig(epochs=2, warmup_epochs=2)
    with pytest.raises(ValueError, match="warmup_epochs must be 0 unless the schedule is cosine"):
        TrainConfig(schedule="onecycle", warmup_epochs=1)
    with pytest.raises(ValueError, match="ema_decay must be below 1"):
        TrainConfig(ema_decay=1.0)
    with pytest.raises(ValueError, match="augment must be one of none, crop_flip, affine"):
        TrainConfig(augment="mixup")


def test_warm_up_then_cosine(small_digits):
    """64 images in batches of 32: two steps an epoch; the first epoch ramps to lr, the cosine takes the rest."""
    result = evaluate(TINY, small_digits, dataclasses.replace(RECIPE, ema_decay=0.0, augment="none"))
    assert result.ok
    assert [m.lr for m in result.history] == pytest.approx([0.05, 0.1, 0.05])  # lr/2 at step 0, lr, half-way down


def test_the_ema_is_validated_and_returned(small_digits):
    plain = evaluate(TINY, small_digits, dataclasses.replace(RECIPE, ema_decay=0.0))
    ema = evaluate(TINY, small_digits, RECIPE)
    assert [m.train_loss for m in plain.history] == [m.train_loss for m in ema.history]  # training is the same
    assert not all(torch.equal(a, b) for a, b in zip(plain.model.state_dict().values(),
                                                     ema.model.state_dict().values()))
    assert all(0 <= m.val_accuracy <= 1 for m in ema.history)


class Killed(Exception):
    pass


def test_a_resumed_run_continues_after_its_checkpoint_with_the_same_numbers(small_digits):
    """Stopped after epoch 1 (its checkpoint saved and read back weights_only), then resumed: epochs 2 and 3 are
    trained, not 1 again, and every number equals the uninterrupted run's."""
    whole = evaluate(TINY, small_digits, RECIPE, test=True)
    saved = []

    def stop_after_first(metrics, state):
        buffer = io.BytesIO()
        torch.save(state, buffer)
        buffer.seek(0)
        saved.append(torch.load(buffer, weights_only=True))
        raise Killed

    with pytest.raises(Killed):
        evaluate(TINY, small_digits, RECIPE, checkpoint=stop_after_first)
    assert saved[0]["epoch"] == 1
    trained = []
    resumed = evaluate(TINY, small_digits, RECIPE, test=True, resume=saved[0],
                       checkpoint=lambda metrics, state: trained.append(metrics.epoch))
    assert trained == [2, 3]
    untimed = [dataclasses.replace(m, wall_time_s=0.0) for m in whole.history]
    assert [dataclasses.replace(m, wall_time_s=0.0) for m in resumed.history] == untimed
    assert resumed.test_accuracy == whole.test_accuracy
    for (name, a), (_, b) in zip(whole.model.state_dict().items(), resumed.model.state_dict().items()):
        assert torch.equal(a, b), name


def test_retrain_settings_give_the_recipe():
    settings = RetrainSettings(dataset="cifar10", epochs=5, warmup_epochs=1)
    assert augmentation(settings) == "crop_flip" and augmentation(RetrainSettings()) == "affine"
    config = train_config(settings, seed=2)
    assert (config.seed, config.warmup_epochs, config.ema_decay, config.label_smoothing) == (2, 1, 0.999, 0.1)
    recipe = describe_recipe(settings)
    assert recipe["augment"] == "crop_flip" and recipe["seeds"] == [0, 1, 2] and "cosine" in recipe["schedule"]
    with pytest.raises(SettingError, match="warmup_epochs must be at least 0 and below epochs"):
        RetrainSettings(epochs=2, warmup_epochs=2)


# ---- where a genome comes from ---------------------------------------------------------------------------------

def test_a_front_member_by_rank_or_key():
    best = front_member(EXAMPLE, "1")
    assert best.genome.key() == best.origin["member"] == "287951edad987050"
    assert best.origin["proxy"]["val_accuracy"] == pytest.approx(0.98333, abs=1e-4) and best.origin["front_size"] == 4
    assert best.data == {"dataset": "digits", "data_dir": None, "seed": 0}
    last = front_member(EXAMPLE, "4")
    assert last.origin["rank"] == 4 and last.origin["proxy"]["val_accuracy"] == pytest.approx(0.95833, abs=1e-4)
    assert front_member(EXAMPLE, "7bf9af5928377215").origin["rank"] == 4
    with pytest.raises(SettingError, match="front has 4 members; ask for a rank from 1"):
        front_member(EXAMPLE, "5")
    with pytest.raises(SettingError, match="unknown front member '287951edad98705'; did you mean 287951edad987050"):
        front_member(EXAMPLE, "287951edad98705")


def test_a_zoo_member_at_the_dataset_resolution():
    assert zoo_member("resnet20", "digits").genome.resolution == 16
    with pytest.raises(SettingError, match="did you mean resnet20"):
        zoo_member("resnett20", "digits")


# ---- the card and load_model ----------------------------------------------------------------------------------

def make_retrain_folder(folder: Path, genome: Genome = TINY) -> torch.nn.Module:
    """A retrain folder as runners.train leaves it, its weights a seeded untrained network's."""
    torch.manual_seed(0)
    model = build(genome).eval()
    folder.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), folder / "model.pt")
    dataset = load_dataset("digits", limit=64)
    seeds = [{"seed": 0, "val_accuracy": 0.5, "test_accuracy": 0.4, "epochs": 1, "wall_time_s": 1.0,
              "resumed_from": 0},
             {"seed": 1, "val_accuracy": 0.6, "test_accuracy": 0.5, "epochs": 1, "wall_time_s": 1.0,
              "resumed_from": 0}]
    write_card(folder, new_card(
        genome, weights="model.pt", seeds=seeds,
        dataset={"name": "digits", "in_chans": 1, "resolution": 16, "num_classes": 10, "train": 64, "val": 64,
                 "test": 64, "split_seed": 0, "limit": 64, "data_dir": None, "mean": list(dataset.mean),
                 "std": list(dataset.std)},
        recipe={"epochs": 1}, latency={"cpu": {"device": "1 threads", "batch_1_ms": 0.5, "batch": 8, "batch_ms": 2.0,
                                               "images_per_s": 4000.0}},
        origin={"kind": "genome", "given": genome.to_str()}, commands=["python -m runners.train"],
        versions={"torch": torch.__version__}))
    return model


def test_the_card_reads_back_and_loads_the_model(tmp_path):
    model = make_retrain_folder(tmp_path)
    card = read_card(tmp_path)
    assert card.genome == TINY and card.fields["model"]["selected_seed"] == 1
    accuracy = card.fields["accuracy"]
    assert accuracy["val"]["mean"] == pytest.approx(0.55) and accuracy["val"]["std"] == pytest.approx(0.0707, abs=1e-4)
    assert accuracy["test"]["mean"] == pytest.approx(0.45) and card.fields["cost"]["params"] > 0
    page = (tmp_path / "card.md").read_text()
    assert "0.4500 ± 0.0707" in page and TINY.to_str() in page and "seed 1 (best validation accuracy)" in page
    loaded = nasbench.load_model(tmp_path)
    x = torch.randn(4, 1, 16, 16)
    with torch.no_grad():
        assert not loaded.training and torch.equal(loaded(x), model(x))


def test_load_model_still_loads_a_front_member(tmp_path):
    member = front_member(EXAMPLE, "1").genome
    (tmp_path / "genomes").mkdir()
    (tmp_path / "genomes" / f"{member.key()}.json").write_text(member.to_json())
    torch.save(build(member).state_dict(), tmp_path / "genomes" / f"{member.key()}.pt")
    assert isinstance(nasbench.load_model(tmp_path, member.key()), torch.nn.Module)


def broken(fields: dict, change: str) -> object:
    if change == "missing genome json":
        del fields["genome"]["json"]
    elif change == "params as text":
        fields["cost"]["params"] = "many"
    elif change == "even kernel":
        fields["genome"]["json"]["stages"][0]["kernel"] = 4
    elif change == "other dataset":
        fields["dataset"]["num_classes"] = 100
    elif change == "other format":
        fields["format"] = "nasbench-card/0"
    return fields


@pytest.mark.parametrize("change, words", [
    ("missing genome json", "genome.json is missing"),
    ("params as text", 'cost.params must be an integer, got "many"'),
    ("even kernel", "genome.json: stages[0].kernel: 4 is even, must be odd"),
    ("other dataset", "the genome takes 1x16x16 images into 10 classes but dataset says 1x16x16 and 100"),
    ("other format", "format is 'nasbench-card/0', not 'nasbench-card/1'"),
    ("not json", "not valid JSON"),
])
def test_a_malformed_card_is_one_line_naming_it(tmp_path, capsys, change, words):
    make_retrain_folder(tmp_path)
    path = tmp_path / CARD_FILE
    fields = json.loads(path.read_text())
    path.write_text("{not json" if change == "not json" else json.dumps(broken(fields, change)))
    with pytest.raises(CardError) as error:
        nasbench.load_model(tmp_path)
    assert str(error.value).startswith(f"{path}: ") and words in str(error.value)
    assert "\n" not in str(error.value)
    code, out = run_cli(export_cli, capsys, tmp_path)
    assert code == 2 and out.err == f"error: {error.value}\n"


def test_weights_that_do_not_fit_the_card(tmp_path):
    make_retrain_folder(tmp_path)
    torch.save(build(TINY.with_input(num_classes=3)).state_dict(), tmp_path / "model.pt")
    with pytest.raises(CardError, match=r"model.pt does not fit the card's genome \(Error\(s\) in loading"):
        nasbench.load_model(tmp_path)
    (tmp_path / "model.pt").unlink()
    with pytest.raises(CardError, match=r"model\.pt: missing"):
        nasbench.load_model(tmp_path)


# ---- exports --------------------------------------------------------------------------------------------------

@pytest.mark.slow  # onnxscript's import and the export take seconds
def test_onnx_and_torchscript_equal_pytorch_within_tolerance(tmp_path, capsys):
    import onnxruntime

    model = make_retrain_folder(tmp_path)
    export_cli.main([str(tmp_path), "--images", "32"])
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and all(line.endswith("(tolerance 0.0001): written") for line in out)
    exports = read_card(tmp_path).fields["exports"]
    assert set(exports) == {"onnx", "torchscript"}
    for entry in exports.values():
        assert entry["images"] == 32 and 0 <= entry["max_abs_diff"] < 1e-4 == entry["tolerance"]
    assert "## Exports" in (tmp_path / "card.md").read_text()
    images = torch.randn(1, 1, 16, 16)  # batch 1, though traced at batch 2
    with torch.no_grad():
        expected = model(images).numpy()
    session = onnxruntime.InferenceSession(str(tmp_path / "model.onnx"), providers=["CPUExecutionProvider"])
    assert np.abs(session.run(["logits"], {"images": images.numpy()})[0] - expected).max() < 1e-4
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch 2.10+ marks torch.jit deprecated
        assert np.abs(torch.jit.load(str(tmp_path / "model.ts"))(images).numpy() - expected).max() < 1e-4


@pytest.mark.slow
def test_an_export_beyond_the_tolerance_is_refused_and_not_written(tmp_path, capsys):
    make_retrain_folder(tmp_path)
    with pytest.raises(ExportMismatch, match=r"model.onnx: its logits differ from PyTorch's by up to \d\.\d\de-\d+ "
                                             r"on 16 test images, more than the tolerance 1e-12; not written"):
        export_model(tmp_path, ["onnx"], tolerance=1e-12, images=16)
    assert not (tmp_path / "model.onnx").exists() and read_card(tmp_path).fields["exports"] == {}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["card.json", "card.md", "model.pt"]  # no temporary left
    code, out = run_cli(export_cli, capsys, tmp_path, "--format", "onnx", "--tolerance", "1e-12", "--images", "16")
    assert code == 1 and out.err.startswith("error: model.onnx: its logits differ") and out.err.count("\n") == 1


@pytest.mark.parametrize("argv, words", [
    (["--format", "onx"], "error: argument --format: unknown format 'onx'; did you mean onnx?"),
    (["--tolerance", "-1"], "error: images must be at least 1 and tolerance zero or positive"),
])
def test_export_bad_input_exits_2_with_one_line(tmp_path, capsys, argv, words):
    make_retrain_folder(tmp_path)
    code, out = run_cli(export_cli, capsys, tmp_path, *argv)
    assert code == 2 and out.err.startswith(words) and out.err.count("\n") == 1


def test_export_of_a_folder_without_a_card(tmp_path, capsys):
    code, out = run_cli(export_cli, capsys, tmp_path)
    assert code == 2 and out.err == (f"error: {tmp_path / CARD_FILE}: no model card; pass a retrain folder "
                                     "(python -m runners.train --out DIR)\n")


# ---- the train command: bad input, before Ray starts -----------------------------------------------------------

def test_train_help_documents_the_flags(capsys):
    code, out = run_cli(train_cli, capsys, "--help")
    assert code == 0
    for flag in ("--run DIR", "--member RANK|KEY", "--genome FILE|STRING", "--zoo NAME", "--dataset", "--epochs",
                 "--seeds", "--out DIR", "--resume DIR", "--warmup-epochs", "--ema-decay", "--augment",
                 "--label-smoothing", "--gpus-per-trial", "--address", "--storage-path"):
        assert flag in out.out, flag


@pytest.mark.parametrize("argv, words", [
    ([], "error: say what to train: --run DIR (a search's front member), --genome FILE|STRING or --zoo NAME"),
    (["--member", "2", "--zoo", "resnet20"], "error: --member picks a front member of --run DIR; give --run too"),
    (["--zoo", "resnett20"], "error: argument --zoo: unknown zoo architecture 'resnett20'; did you mean resnet20?"),
    (["--zoo", "vgg16"], "error: stages[17]: spatial size collapses from 1x1 to 0x0"),
    (["--genome", "i=1,r=16,n=10|body:basic(k=4,c=8)|head:"], "error: stages[0].kernel: 4 is even, must be odd"),
    (["--run", str(EXAMPLE), "--member", "9"], "error: " + str(EXAMPLE) + "'s front has 4 members; ask for a rank "
                                                "from 1 (the most accurate) to 4, or a genome key (--member)"),
    (["--run", str(ROOT / "results")], "error: " + str(ROOT / "results") + " is not a run folder (no config.json)"),
    (["--zoo", "resnet20", "--epochs", "2", "--warmup-epochs", "2"], "error: warmup_epochs must be at least 0 and "
                                                                     "below epochs (got 2) (--warmup-epochs)"),
    (["--zoo", "resnet20", "--augment", "mixup"], "error: argument --augment: unknown augmentation 'mixup'"),
    (["--resume", "/nonexistent/retrain"], "error: /nonexistent/retrain is not a retrain folder (no retrain.json)"),
    (["--resume", str(EXAMPLE), "--epochs", "3"], "error: --resume continues a retrain with the settings in its "
                                                  "retrain.json; no other option may be given (got --epochs)"),
])
def test_train_bad_input_exits_2_with_one_line(no_ray, capsys, argv, words):
    code, out = run_cli(train_cli, capsys, *argv)
    assert code == 2 and out.err.startswith(words) and out.err.count("\n") == 1, out.err


def test_train_refuses_a_folder_in_use(no_ray, tmp_path, capsys):
    make_retrain_folder(tmp_path / "full")
    (tmp_path / "done").mkdir()
    (tmp_path / "done" / "retrain.json").write_text("{}")
    for folder, words in ((tmp_path / "full", "is not an empty folder"), (tmp_path / "done", "holds a retrain")):
        code, out = run_cli(train_cli, capsys, "--zoo", "resnet20", "--out", folder)
        assert code == 2 and words in out.err and out.err.rstrip().endswith("(--out)")
    assert sorted(p.name for p in (tmp_path / "full").iterdir()) == ["card.json", "card.md", "model.pt"]
