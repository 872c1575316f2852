// Steward plugin API version. The plugin's C++ and C APIs will live beside
// this header under plugin/include/steward/.
#ifndef STEWARD_PLUGIN_INCLUDE_STEWARD_VERSION_H_
#define STEWARD_PLUGIN_INCLUDE_STEWARD_VERSION_H_

#define STEWARD_VERSION_MAJOR 0
#define STEWARD_VERSION_MINOR 1

#endif  // STEWARD_PLUGIN_INCLUDE_STEWARD_VERSION_H_
