/* codec.h: helpers shared by the xCal (xcal.c) and jCal (jcal.c) codecs. */
#ifndef CALPUBSUB_CALENDAR_CODEC_H
#define CALPUBSUB_CALENDAR_CODEC_H

#include "src/calendar/internal.h"

/* The lower-case type name of a property value ("date-time", "unknown", "x-foo"). */
void codec_type_name(struct buf *out, const struct cal_prop *p);
void codec_lower(struct buf *out, const char *s);
char *codec_upper(const char *s);
/* iCalendar basic format -> the extended format of RFC 6321/7265 and back. */
void codec_ext_value(struct buf *out, enum vtype t, const char *v);
void codec_basic_value(struct buf *out, enum vtype t, const char *v);
void codec_ext_date_or_datetime(struct buf *out, const char *v);
/* Sets VALUE for a decoded type name unless it is the property's default. */
void codec_set_value_type(struct cal_prop *p, const char *type_name);
/* Adds parameter `name` (upper-cased) with copies of the values, unless there are none.
 * A name given twice stays twice here: the reader that codec_finish runs reports it. */
void codec_param_add(struct cal_prop *p, const char *name, const char *const *values, size_t n_values);
/* The encoders, from a parsed canonical VCALENDAR: compact xCal and jCal text. */
void xcal_write(const struct cal_comp *vcal, struct buf *out);
/* False, with the property named in err, for a value jansson cannot hold. */
bool jcal_write(const struct cal_comp *vcal, struct buf *out, struct buf *err);
/* Runs a decoded VCALENDAR through the reader: exactly one valid object, or errors. */
bool codec_finish(const struct cal_comp *vcal, const char *format, struct cal_payload *out, struct buf *errors);

#endif
