#!/bin/sh
# Gateway Provisioners' bootstrap-kernel.sh, reduced to Python (reference §2.1): a GP image's own command, which
# turns the env contract into the launcher's arguments. The test image's command runs it from a bind mount.
set -eu
: "${KERNEL_ID:?}" "${RESPONSE_ADDRESS:?}" "${PUBLIC_KEY:?}"
case "$(echo "${KERNEL_LANGUAGE:?}" | tr 'A-Z' 'a-z')" in
python) ;;
*) echo "bootstrap: unsupported KERNEL_LANGUAGE $KERNEL_LANGUAGE" >&2; exit 1 ;;
esac
exec "${GP_TEST_PYTHON:-/usr/bin/python3}" "$(dirname "$0")/gp_launch_ipykernel.py" \
  --kernel-id "$KERNEL_ID" --port-range "${PORT_RANGE:-0..0}" \
  --response-address "$RESPONSE_ADDRESS" --public-key "$PUBLIC_KEY" \
  --kernel-class-name "${KERNEL_CLASS_NAME:-ipykernel.ipkernel.IPythonKernel}"
