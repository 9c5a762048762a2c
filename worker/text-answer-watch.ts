// Tools beside a JSON response_format: the model may call a tool or answer in text, and a text
// answer must be in the format. node-llama-cpp generates under functions or under a grammar, never
// both at once, so the engine first lets the model choose with the tools offered and, at its first
// piece of text that is not blank, stops it, to generate the answer again under the format's
// grammar. A call is never stopped: node-llama-cpp holds back text that may begin one, so what
// reaches onTextChunk is text the model chose to write.

export class TextAnswerWatch {
  private readonly stopper = new AbortController();
  /** The generation's signal: the client's, or this watch's stop at the first text. */
  readonly signal: AbortSignal;

  constructor(clientSignal: AbortSignal | undefined) {
    this.signal = clientSignal ? AbortSignal.any([clientSignal, this.stopper.signal]) : this.stopper.signal;
  }

  /** The model began an answer in text (and was stopped): the answer is to be generated in the format. */
  get answeredInText(): boolean {
    return this.stopper.signal.aborted;
  }

  /** In place of the client's: text before a call is not passed on, for it is either blank or the answer to redo. */
  readonly onTextChunk = (text: string): void => {
    if (text.trim() !== "") this.stopper.abort();
  };
}
