/**
 * The offline half of the evaluation loop (issue 19), tool jar only: {@code eval-report} over the
 * evaluate job's {@code model-eval} topic ({@link EvalReport}, {@link EvalReportPlot}),
 * {@code export-samples} from the labelled serving log into the official DIEN training format
 * ({@link SampleExport}), and a bundle's offline metrics on such a file ({@link OfflineEvaluation}).
 * Every metric goes through {@link io.dienflink.evaluate.BinaryMetrics}, as the online evaluator's do,
 * so the same labelled scores give the same numbers on both sides.
 */
package io.dienflink.offline;
