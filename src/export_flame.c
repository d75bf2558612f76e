/*
 * --stacks' folded stacks as an SVG flame graph for the HTML page: the
 * stacks merged into a tree of frames, each frame as wide as its faults,
 * the root at the bottom. Frames narrower than FLAME_MIN_SHARE of all
 * faults are left out, as flamegraph.pl does, to keep the page small.
 */
#include <stdlib.h>
#include <string.h>
#include "export_html.h"

#define FLAME_MIN_SHARE 0.001
#define FLAME_WIDTH 1200
#define FLAME_ROW 17
#define FLAME_MAX_NODES (1u << 20)

struct flame_node {
	const char *name;	/* into a stack's frames, not terminated */
	size_t name_len;
	__u64 count;
	int child, sibling;	/* -1: none */
};

struct flame_tree {
	struct flame_node *nodes;
	size_t nr, capacity;
	int depth;		/* of the deepest frame */
};

static int add_node(struct flame_tree *tree, const char *name, size_t len)
{
	if (tree->nr == tree->capacity) {
		size_t capacity = tree->capacity ? 2 * tree->capacity : 1024;
		void *grown;

		if (capacity > FLAME_MAX_NODES)
			return -1;
		grown = realloc(tree->nodes, capacity * sizeof(*tree->nodes));
		if (!grown)
			return -1;
		tree->nodes = grown;
		tree->capacity = capacity;
	}
	tree->nodes[tree->nr] = (struct flame_node){ .name = name, .name_len = len,
						     .child = -1, .sibling = -1 };
	return (int)tree->nr++;
}

/* The child of @parent named so, made if new; -1 when out of room. */
static int child_named(struct flame_tree *tree, int parent, const char *name, size_t len)
{
	int at = tree->nodes[parent].child, made;

	for (; at >= 0; at = tree->nodes[at].sibling)
		if (tree->nodes[at].name_len == len && !memcmp(tree->nodes[at].name, name, len))
			return at;
	made = add_node(tree, name, len);
	if (made < 0)
		return -1;
	tree->nodes[made].sibling = tree->nodes[parent].child;
	tree->nodes[parent].child = made;
	return made;
}

/* "comm;outer;...;inner;[class]" down from the root; -1 out of room. */
static int add_stack(struct flame_tree *tree, const struct folded_stack *stack)
{
	const char *frame = stack->frames;
	int node = 0, depth = 0;

	tree->nodes[0].count += stack->count;
	while (*frame) {
		const char *end = strchr(frame, ';');
		size_t len = end ? (size_t)(end - frame) : strlen(frame);

		node = child_named(tree, node, frame, len);
		if (node < 0)
			return -1;
		tree->nodes[node].count += stack->count;
		if (++depth > tree->depth)
			tree->depth = depth;
		frame += len + (end != NULL);
	}
	return 0;
}

/* Warm colours, the same frame name the same colour throughout. */
static unsigned name_hash(const char *name, size_t len)
{
	unsigned hash = 2166136261u;

	for (size_t i = 0; i < len; i++)
		hash = (hash ^ (unsigned char)name[i]) * 16777619u;
	return hash;
}

static void write_frame(FILE *out, const struct flame_tree *tree, int at, __u64 x,
			int depth)
{
	const struct flame_node *node = &tree->nodes[at];
	__u64 total = tree->nodes[0].count;
	double px = (double)x * FLAME_WIDTH / (double)total;
	double width = (double)node->count * FLAME_WIDTH / (double)total;
	unsigned hash = name_hash(node->name, node->name_len);
	int y = (tree->depth - depth) * FLAME_ROW;
	size_t fits = width > 10 ? (size_t)((width - 6) / 7) : 0;	/* 7 px a letter */

	if ((double)node->count < FLAME_MIN_SHARE * (double)total)
		return;
	fprintf(out, "<g class=\"frame\" data-x=\"%llu\" data-w=\"%llu\" data-d=\"%d\">"
		"<title>", (unsigned long long)x, (unsigned long long)node->count, depth);
	html_escape_len(out, node->name, node->name_len);
	fprintf(out, ": %llu faults, %.2f%%</title><rect x=\"%.2f\" y=\"%d\" width=\"%.2f\" "
		"height=\"%d\" fill=\"hsl(%u,80%%,%u%%)\"/><text x=\"%.2f\" y=\"%d\">",
		(unsigned long long)node->count, 100.0 * (double)node->count / (double)total,
		px, y, width, FLAME_ROW - 1, 5 + hash % 50, 55 + hash / 64 % 15, px + 3,
		y + FLAME_ROW - 5);
	html_escape_len(out, node->name, node->name_len < fits ? node->name_len : fits);
	fputs("</text></g>\n", out);
	for (int child = node->child; child >= 0; child = tree->nodes[child].sibling) {
		write_frame(out, tree, child, x, depth + 1);
		x += tree->nodes[child].count;
	}
}

int html_flame_graph(FILE *out, const struct stack_table *stacks)
{
	struct flame_tree tree = { 0 };
	int err = add_node(&tree, "all", 3) < 0 ? -1 : 0;

	for (size_t i = 0; !err && i < stacks->nr_stacks; i++)
		err = add_stack(&tree, &stacks->stacks[i]);
	if (err) {
		free(tree.nodes);
		fputs("<p class=\"note\">Too many frames for a flame graph.</p>\n", out);
		return -1;
	}
	if (!tree.nodes[0].count) {
		free(tree.nodes);
		fputs("<p class=\"note\">No stacks were sampled.</p>\n", out);
		return 0;
	}
	fprintf(out, "<p class=\"note\">%llu sampled faults; click a frame to zoom, "
		"the bottom one to zoom out.</p>\n<svg id=\"flame\" class=\"flame\" "
		"viewBox=\"0 0 %d %d\" width=\"100%%\" data-width=\"%d\" data-total=\"%llu\">\n",
		(unsigned long long)tree.nodes[0].count, FLAME_WIDTH,
		(tree.depth + 1) * FLAME_ROW, FLAME_WIDTH,
		(unsigned long long)tree.nodes[0].count);
	write_frame(out, &tree, 0, 0, 0);
	fputs("</svg>\n", out);
	free(tree.nodes);
	return 0;
}
