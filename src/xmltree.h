/* xmltree.h: a small dependency-free XML element tree, the neutral form in which xmpp/
 * hands payloads (xCal) to calendar/ and gets them back, so that neither room has to know
 * the other's XML library. */
#ifndef CALPUBSUB_XMLTREE_H
#define CALPUBSUB_XMLTREE_H

#include <stddef.h>

#include "src/buf.h"

struct xml_attr {
	char *name;
	char *value;
};

struct xml_node {
	char *name; /* local name; NULL for a text node */
	char *ns;   /* namespace URI, NULL when none */
	char *text; /* text nodes only */
	struct xml_attr *attrs;
	size_t n_attrs;
	struct xml_node **children;
	size_t n_children;
};

struct xml_node *xml_element_new(const char *name, const char *ns);
struct xml_node *xml_text_new(const char *text, size_t len);
void xml_add_attr(struct xml_node *n, const char *name, const char *value);
/* Takes ownership of child. */
void xml_add_child(struct xml_node *parent, struct xml_node *child);
/* Convenience: appends <name>text</name> in the parent's namespace and returns it. */
struct xml_node *xml_add_text_element(struct xml_node *parent, const char *name, const char *text);
const char *xml_attr_get(const struct xml_node *n, const char *name);
/* First element child with this local name and namespace; ns NULL matches any namespace. */
struct xml_node *xml_child(const struct xml_node *n, const char *name, const char *ns);
/* Concatenated text of the direct text children, malloc'd (never NULL). */
char *xml_text_content(const struct xml_node *n);
/* Writes n as compact XML. xmlns is written only where the namespace differs from
 * inherited_ns, the namespace in scope at the parent (NULL at the top). */
void xml_serialize(struct buf *b, const struct xml_node *n, const char *inherited_ns);
void xml_free(struct xml_node *n);

#endif
