/**
 * Compile-time check, run by `npm run typecheck` where the optional socketcan package is installed:
 * its own declarations still fit SocketCanModule, the part of its API the bus uses. (The build does
 * not read them, so a machine where socketcan could not be compiled still builds the bridge.)
 */
import type * as SocketCanPackage from 'socketcan';
import type { SocketCanModule } from '../../../src/transport/socketcan-bus';

export const socketCanPackageFits: SocketCanModule = {} as typeof SocketCanPackage;
