#ifndef AQCAST_CMOSQUITTO_SHIM_H
#define AQCAST_CMOSQUITTO_SHIM_H
#include <mosquitto.h>
#include <mqtt_protocol.h>
#endif
