const BRAND = Symbol.for('@gorilla-ts/models-pointnet.error');

/** Stable machine-readable codes of the errors `@gorilla-ts/models-pointnet` throws. */
export type PointNetErrorCode = 'POINTNET_INVALID_OPTIONS' | 'POINTNET_INVALID_INPUT';

/**
 * Base class of every error thrown by `@gorilla-ts/models-pointnet`, with a stable
 * {@link PointNetError.code}. Use {@link PointNetError.isInstance} rather than `instanceof`: it
 * also recognises errors thrown by a second installed copy of this package.
 */
export class PointNetError extends Error {
  /** A stable code, safe to branch on. */
  readonly code: PointNetErrorCode;

  constructor(code: PointNetErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    Object.defineProperty(this, BRAND, { value: true });
  }

  /** True for any error thrown by any installed copy of this package. */
  static isInstance(error: unknown): error is PointNetError {
    return typeof error === 'object' && error !== null && BRAND in error;
  }
}
