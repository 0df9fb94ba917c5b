// The affine form every scaler fits: transform(x) = (x − center) / scale.

export interface Scaling {
  readonly center: number;
  /** Never 0: a column without spread keeps scale 1, as sklearn's _handle_zeros_in_scale does. */
  readonly scale: number;
}

export type ScalerName = 'standard' | 'minmax' | 'robust' | 'none';

export const IDENTITY: Scaling = { center: 0, scale: 1 };
