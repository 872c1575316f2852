/* The C header alone, against the installed library. */
#include <stdio.h>
#include <string.h>

#include "steward/steward_c.h"

int main(void) {
  steward_options o;
  steward_plugin* p = NULL;
  char err[128];
  memset(&o, 0, sizeof o);
  int rc = steward_create(&o, &p, err, sizeof err);
  printf("create: %d %s\n", rc, err);
  return rc == 3 && p == NULL ? 0 : 1;
}
