"""What fine-tuning a small multilingual transformer would cost on this machine.

Trains and scores a model of multilingual-e5-small's shape (BERT, 12 layers,
width 384, 250,037-entry vocabulary) with random weights: speed does not depend
on the weights' values, and no pretrained float weights can be had here. It
prints training examples/s (AdamW, batch 16, with and without the embedding
matrix frozen) and scoring turns/s for two turn lengths, and the hours one
task's cross-validated training would take. README "How it works" quotes it.

    python -m bench.finetune_cost        (needs bench/requirements-encoder.txt)
"""

from __future__ import annotations

import argparse
import time

BATCH = 16


def measure(seq_len: int, freeze_embeddings: bool, steps: int = 5, threads: int = 2) -> tuple[float, float]:
    """(training examples/s, scoring turns/s) for batches of ``seq_len`` tokens."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=250037, hidden_size=384, num_hidden_layers=12, num_attention_heads=12,
                        intermediate_size=1536, max_position_embeddings=514, num_labels=2)
    model = BertForSequenceClassification(config)
    model.bert.embeddings.word_embeddings.weight.requires_grad_(not freeze_embeddings)
    optimiser = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=2e-5)
    x = torch.randint(5, 250000, (BATCH, seq_len))
    y = torch.randint(0, 2, (BATCH,))
    model.train()
    for step in range(steps + 1):
        if step == 1:  # the first step allocates the optimiser's state
            start = time.perf_counter()
        model(input_ids=x, labels=y).loss.backward()
        optimiser.step()
        optimiser.zero_grad()
    train_rate = BATCH * steps / (time.perf_counter() - start)
    model.eval()
    with torch.no_grad():
        start = time.perf_counter()
        for _ in range(steps):
            model(input_ids=x)
    return train_rate, BATCH * steps / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.finetune_cost", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--examples", type=int, default=34101, help="turns in one epoch (default: customer turns)")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args(argv)
    fits = args.folds + 1
    for seq_len in (48, 96):
        for frozen in (False, True):
            train, score = measure(seq_len, frozen, threads=args.threads)
            hours = fits * args.epochs * args.examples / train / 3600
            print(f"{seq_len:3d} tokens, embeddings {'frozen' if frozen else 'trained'}: "
                  f"train {train:5.1f} examples/s, score {score:5.1f} turns/s, "
                  f"{fits} fits x {args.epochs} epochs x {args.examples} turns = {hours:4.1f} h")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
