/*
 * "Where the time went": each class's time in faults split by what its
 * faults waited for, as text. pfwatch report and the summary of
 * pfwatch -- CMD both print it, so they cannot disagree.
 */
#ifndef PFWATCH_RENDER_CAUSES_H
#define PFWATCH_RENDER_CAUSES_H

#include <stdio.h>
#include "aggregate.h"

/*
 * One row per cause of each class with timed faults, classes with the
 * most time first, causes likewise: time, share of the class's time in
 * faults, and how many of its faults waited on the cause. One line
 * instead when no fault waited, or when the causes were not recorded (a
 * file of an older pfwatch). 80 columns.
 */
void render_causes(FILE *out, const struct fault_stats *stats);

#endif
