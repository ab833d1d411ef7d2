"""Evaluation against reference answers: ``qa eval``, its report, and the scoring the benchmarks use.

Layers, each importing only those above it:

    metrics      pure metric functions (SQuAD normalisation, EM, F1, hit@k, MRR, percentiles)
    dataset      EvalItem and the JSONL dataset format
    feedback     the web chat's thumbs and corrections (qa.library.feedback) as a dataset
    converters   SQuAD / HotpotQA to documents + JSONL (and the helpers every converter shares)
    domains      the sets from other kinds of documents: papers, contracts, service pages, reports
    references   the reference sets that ship in eval/datasets/, by name
    protocol     tune and test halves, near-miss and cross-corpus questions
    records      TypedDicts of results.jsonl and summary.json
    scoring      the one definition of a gold passage; the scores of one answered question
    registry     the one list of summary metrics (key, label, legend, format, aggregate)
    judge        --judge: correctness and faithfulness judged by the language model
    plots        report.html's plots
    report       the summary table and report.html
    compare      --compare OUT_A OUT_B
    runner       the resumable run: ask, score, write results, summary and report
    cli          the ``qa eval`` command
"""
