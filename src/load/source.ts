/** One input file as read from disk or stdin. */
export interface SourceFile {
  /** Path as the user should see it (relative to the working directory), or `<stdin>`. */
  readonly path: string;
  readonly text: string;
  /** sha256 (hex) of the bytes read, when they were read from disk or stdin. */
  readonly sha256?: string;
}

/** A Kubernetes object found in an input file. */
export interface Manifest {
  readonly kind: string;
  readonly apiVersion: string;
  readonly value: Record<string, unknown>;
  readonly file: string;
  /** 0-based YAML document index in the file. */
  readonly doc: number;
  /** JSON pointer of the object inside its document: '' or `/items/3` for `kind: List`. */
  readonly base: string;
  /** `Service shop/cart` */
  readonly label: string;
}
