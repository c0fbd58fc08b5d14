/* xmltree.c: the neutral XML element tree (see xmltree.h). */
#include "src/xmltree.h"

#include <stdlib.h>
#include <string.h>

struct xml_node *xml_element_new(const char *name, const char *ns)
{
	struct xml_node *n = xcalloc(1, sizeof(*n));
	n->name = xstrdup(name);
	n->ns = ns ? xstrdup(ns) : NULL;
	return n;
}

struct xml_node *xml_text_new(const char *text, size_t len)
{
	struct xml_node *n = xcalloc(1, sizeof(*n));
	n->text = xstrndup(text, len);
	return n;
}

void xml_add_attr(struct xml_node *n, const char *name, const char *value)
{
	n->attrs = xrealloc(n->attrs, (n->n_attrs + 1) * sizeof(*n->attrs));
	n->attrs[n->n_attrs].name = xstrdup(name);
	n->attrs[n->n_attrs].value = xstrdup(value);
	n->n_attrs++;
}

void xml_add_child(struct xml_node *parent, struct xml_node *child)
{
	parent->children = xrealloc(parent->children, (parent->n_children + 1) * sizeof(*parent->children));
	parent->children[parent->n_children++] = child;
}

struct xml_node *xml_add_text_element(struct xml_node *parent, const char *name, const char *text)
{
	struct xml_node *e = xml_element_new(name, parent->ns);
	if (text && *text)
		xml_add_child(e, xml_text_new(text, strlen(text)));
	xml_add_child(parent, e);
	return e;
}

const char *xml_attr_get(const struct xml_node *n, const char *name)
{
	for (size_t i = 0; i < n->n_attrs; i++)
		if (strcmp(n->attrs[i].name, name) == 0)
			return n->attrs[i].value;
	return NULL;
}

static int same_ns(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

struct xml_node *xml_child(const struct xml_node *n, const char *name, const char *ns)
{
	for (size_t i = 0; i < n->n_children; i++) {
		struct xml_node *c = n->children[i];
		if (c->name && strcmp(c->name, name) == 0 && (!ns || same_ns(c->ns, ns)))
			return c;
	}
	return NULL;
}

char *xml_text_content(const struct xml_node *n)
{
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < n->n_children; i++)
		if (!n->children[i]->name && n->children[i]->text)
			buf_puts(&b, n->children[i]->text);
	return buf_steal(&b);
}

void xml_serialize(struct buf *b, const struct xml_node *n, const char *inherited_ns)
{
	if (!n->name) {
		buf_xml_escape(b, n->text ? n->text : "");
		return;
	}
	buf_putc(b, '<');
	buf_puts(b, n->name);
	if (!same_ns(n->ns, inherited_ns)) {
		/* An element leaving every namespace must undeclare the inherited default. */
		buf_puts(b, " xmlns='");
		buf_xml_escape_attr(b, n->ns ? n->ns : "");
		buf_putc(b, '\'');
	}
	for (size_t i = 0; i < n->n_attrs; i++) {
		buf_printf(b, " %s='", n->attrs[i].name);
		buf_xml_escape_attr(b, n->attrs[i].value);
		buf_putc(b, '\'');
	}
	if (!n->n_children) {
		buf_puts(b, "/>");
		return;
	}
	buf_putc(b, '>');
	for (size_t i = 0; i < n->n_children; i++)
		xml_serialize(b, n->children[i], n->ns);
	buf_printf(b, "</%s>", n->name);
}

void xml_free(struct xml_node *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n_children; i++)
		xml_free(n->children[i]);
	for (size_t i = 0; i < n->n_attrs; i++) {
		free(n->attrs[i].name);
		free(n->attrs[i].value);
	}
	free(n->children);
	free(n->attrs);
	free(n->name);
	free(n->ns);
	free(n->text);
	free(n);
}
