import type {
  ConfusionMatrixEvaluator,
  Metrics,
  TensorBoardWriter,
  TrainerContext,
} from '@gorilla-ts/train';
import { HookBase } from '@gorilla-ts/train';
import { writeConfusionImage } from './confusion-image.js';

/**
 * Writes the labelled confusion matrix of each evaluation to TensorBoard's Images tab
 * (`val/confusion_matrix`, at the evaluation's iteration), through the run's own TensorBoard
 * writer. Rank 0 only; priority `LOW`, after the evaluator has summarized its matrix.
 */
export class ConfusionImageHook extends HookBase {
  readonly #evaluator: ConfusionMatrixEvaluator;
  readonly #writer: () => TensorBoardWriter | undefined;

  /**
   * @param evaluator The run's evaluator (its last summarized matrix is drawn).
   * @param writer Returns the run's TensorBoard writer while the run lasts.
   */
  constructor(evaluator: ConfusionMatrixEvaluator, writer: () => TensorBoardWriter | undefined) {
    super({ name: 'ConfusionImageHook' }, 'LOW');
    this.#evaluator = evaluator;
    this.#writer = writer;
  }

  override afterEval(trainer: TrainerContext, _metrics: Metrics): void {
    const counts = this.#evaluator.lastCounts;
    const writer = this.#writer();
    if (trainer.rank !== 0 || counts === undefined || writer === undefined) return;
    const { numClasses, classNames } = this.#evaluator;
    writeConfusionImage(
      writer,
      { numClasses, counts: Int32Array.from(counts) },
      classNames,
      trainer.completedIters,
    );
    writer.flush();
  }
}
