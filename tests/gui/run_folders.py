"""Run folders for GUI tests, written with engine.run_folder's own writers (no training)."""

from engine.run_folder import FORMAT, METRICS, RUN_JSON, VERSION, atomic_write_text, json_text, metrics_text

BASE = {"cell": "gru", "hidden_sizes": [16], "optimizer": "adam", "learning_rate": 0.003, "batch_size": 32,
        "epochs": 4, "clip_norm": 5.0, "seed": 0}


def write_run(folder, name, val_losses, status="finished", **config):
    """A finished run folder: run.json and metrics.csv with these validation losses."""
    folder.mkdir(parents=True)
    history = [{"epoch": e, "train_loss": v * 1.1, "val_loss": v, "val_accuracy": None,
                "learning_rate": config.get("learning_rate", BASE["learning_rate"]), "clip_norm": 5.0,
                "momentum": 0.9, "wall_s": 0.5 * e, "grad_norms": {"layer1": 1.0}, "weight_norms": {"layer1": 2.0}}
               for e, v in enumerate(val_losses, start=1)]
    atomic_write_text(folder / METRICS, metrics_text(history))
    meta = {"format": FORMAT, "version": VERSION, "name": name, "status": status, "config": {**BASE, **config},
            "dataset": {"name": "sine"}, "epoch": len(val_losses), "epochs": len(val_losses),
            "best": {"epoch": 1 + val_losses.index(min(val_losses)), "val_loss": min(val_losses)}, "note": ""}
    atomic_write_text(folder / RUN_JSON, json_text(meta))
    return folder
