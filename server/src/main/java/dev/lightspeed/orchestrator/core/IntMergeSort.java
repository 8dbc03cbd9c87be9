package dev.lightspeed.orchestrator.core;

import java.util.function.IntBinaryOperator;

/**
 * A stable sort of an {@code int[]} by a comparator of ints: no boxing, no object per element.
 * For sorting entry numbers by a key kept elsewhere ({@link RememberedBatches#sortedByKey}), where
 * a list of boxed numbers or of key strings would hold an object per remembered batch.
 */
final class IntMergeSort {
  private IntMergeSort() {}

  /** Sorts {@code values} in place, equal ones keeping their order. */
  static void sort(int[] values, IntBinaryOperator compare) {
    int count = values.length;
    int[] scratch = new int[count];
    // Bottom-up: runs of width 1, 2, 4, ... merged pairwise.
    for (int width = 1; width < count; width *= 2) {
      for (int lo = 0; lo < count - width; lo += 2 * width) {
        int mid = lo + width;
        int hi = Math.min(lo + 2 * width, count);
        int i = lo;
        int j = mid;
        int k = lo;
        while (i < mid && j < hi) {
          scratch[k++] = compare.applyAsInt(values[j], values[i]) < 0 ? values[j++] : values[i++];
        }
        while (i < mid) {
          scratch[k++] = values[i++];
        }
        while (j < hi) {
          scratch[k++] = values[j++];
        }
        System.arraycopy(scratch, lo, values, lo, hi - lo);
      }
    }
  }
}
