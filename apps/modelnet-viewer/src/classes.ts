/**
 * Class names for a checkpoint. The demo's checkpoints store the run's config (dataset type and
 * number of classes) but not the names, so they are looked up here by data set.
 */

/** SyntheticShapes' classes, in label order (apps/modelnet-demo/src/datasets/shapes.ts). */
export const SYNTHETIC_SHAPES = [
  'sphere',
  'cube',
  'cylinder',
  'cone',
  'torus',
  'disc',
  'pyramid',
  'helix',
  'ellipsoid',
  'capsule',
] as const;

/** ModelNet10's classes, in label order (shape_names.txt). */
export const MODELNET10 = [
  'bathtub',
  'bed',
  'chair',
  'desk',
  'dresser',
  'monitor',
  'night_stand',
  'sofa',
  'table',
  'toilet',
] as const;

/** ModelNet40's classes, in label order (shape_names.txt). */
export const MODELNET40 = [
  'airplane',
  'bathtub',
  'bed',
  'bench',
  'bookshelf',
  'bottle',
  'bowl',
  'car',
  'chair',
  'cone',
  'cup',
  'curtain',
  'desk',
  'door',
  'dresser',
  'flower_pot',
  'glass_box',
  'guitar',
  'keyboard',
  'lamp',
  'laptop',
  'mantel',
  'monitor',
  'night_stand',
  'person',
  'piano',
  'plant',
  'radio',
  'range_hood',
  'sink',
  'sofa',
  'stairs',
  'stool',
  'table',
  'tent',
  'toilet',
  'tv_stand',
  'vase',
  'wardrobe',
  'xbox',
] as const;

/**
 * The class names of a model with `numClasses` outputs trained on `datasetType`: explicit
 * names when the checkpoint has them, else the known lists, else `class 0`, `class 1`, ...
 */
export function classNamesFor(
  numClasses: number,
  datasetType: string | undefined,
  explicit?: readonly string[],
): string[] {
  if (explicit !== undefined && explicit.length === numClasses) return [...explicit];
  if (datasetType === 'SyntheticShapes' && numClasses <= SYNTHETIC_SHAPES.length)
    return SYNTHETIC_SHAPES.slice(0, numClasses);
  if (datasetType?.startsWith('ModelNet')) {
    if (numClasses === 10) return [...MODELNET10];
    if (numClasses === 40) return [...MODELNET40];
  }
  return Array.from({ length: numClasses }, (_, i) => `class ${i}`);
}
