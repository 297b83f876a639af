/**
 * @rankwise/observe: watching runs. TensorBoard event files and a report.html in every run folder (run observers
 * for `createRankwise({ observers })`), reports that overlay several runs, run comparison, and `rankwise ui`.
 */
export { maskedCrc32c, tfRecord } from './tensorboard/tfrecord.js';
export { eventBytes, type SummaryValue } from './tensorboard/event-proto.js';
export { EventFileWriter, eventFileName } from './tensorboard/event-writer.js';
export { TensorBoardMapper, TRAIN_TAGS, evaluationName, readMetricsLines, tensorBoardObserver } from './tensorboard/tensorboard-observer.js';
